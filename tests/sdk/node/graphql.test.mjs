// The official SDKs' Graphql service against a running latchkey: node-appwrite 27.1.0 with a
// session secret and with a key, and the web SDK (appwrite 26.2.0 and 28.0.0) signing up, in
// and out through GraphQL alone with its fallback cookie. Each result is checked against the
// REST answer of the same operation through the same SDK.
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { installLocalStorage } from './local_storage.mjs';

const store = installLocalStorage();
const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');

const PASSWORD = 'graphql-password-123';
const tag = () => Math.random().toString(16).slice(2, 12);
const email = () => `graphql-${tag()}@example.com`;

const SIGN_UP = `mutation SignUp($userId: String!, $email: String!, $password: String!, $name: String) {
  accountCreate(userId: $userId, email: $email, password: $password, name: $name) { _id name email status }
}`;
const SIGN_IN = `mutation SignIn($email: String!, $password: String!) {
  accountCreateEmailPasswordSession(email: $email, password: $password) { _id userId secret provider current }
}`;
const ME = `query { accountGet { _id _createdAt name email emailVerification prefs { data } } }`;

/** The `data` of a GraphQL answer as plain objects (the SDKs' JSON parser makes
 * null-prototype ones), failing the test on any error in it. */
function data(answer) {
  assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
  return JSON.parse(JSON.stringify(answer.data));
}

/** The single error of a GraphQL answer, as Appwrite reports it. */
function failure(answer) {
  assert.ok(Array.isArray(answer.errors) && answer.errors.length === 1, JSON.stringify(answer));
  return answer.errors[0];
}

describe('node-appwrite 27.1.0 Graphql', () => {
  const { Client, Account, Graphql, ID } = require('node-appwrite-27');
  const keyed = () => new Client().setEndpoint(endpoint).setProject(project).setKey(key);
  const withSession = (secret) => new Client().setEndpoint(endpoint).setProject(project).setSession(secret);

  test('sign-up and sign-in as mutations, then Account queries and updates with the session', async () => {
    const address = email();
    const server = new Graphql(keyed());
    const userId = ID.unique();
    const created = data(
      await server.mutation({ query: { query: SIGN_UP, variables: { userId, email: address, password: PASSWORD, name: 'Graph Q' } } }),
    ).accountCreate;
    assert.deepEqual(created, { _id: userId, name: 'Graph Q', email: address, status: true });

    const session = data(
      await server.mutation({ query: { query: SIGN_IN, variables: { email: address, password: PASSWORD } } }),
    ).accountCreateEmailPasswordSession;
    assert.equal(session.userId, userId);
    assert.equal(session.provider, 'email');
    assert.ok(session.secret.length > 0, 'a key sees the new session secret, as over REST');

    const mine = new Graphql(withSession(session.secret));
    const me = data(await mine.query({ query: { query: ME } })).accountGet;
    const rest = await new Account(withSession(session.secret)).get();
    assert.deepEqual(me, {
      _id: rest.$id,
      _createdAt: rest.$createdAt,
      name: rest.name,
      email: rest.email,
      emailVerification: rest.emailVerification,
      prefs: { data: JSON.stringify(rest.prefs) },
    });

    const renamed = data(
      await mine.mutation({ query: { query: 'mutation { accountUpdateName(name: "Renamed") { name } }' } }),
    );
    assert.equal(renamed.accountUpdateName.name, 'Renamed');
    const prefs = data(
      await mine.mutation({
        query: { query: 'mutation P($p: Assoc!) { accountUpdatePrefs(prefs: $p) { prefs { data } } }', variables: { p: { theme: 'dark' } } },
      }),
    );
    assert.deepEqual(JSON.parse(prefs.accountUpdatePrefs.prefs.data), { theme: 'dark' });
    assert.deepEqual({ ...(await new Account(withSession(session.secret)).getPrefs()) }, { theme: 'dark' });

    const sessions = data(await mine.query({ query: { query: '{ accountListSessions { total sessions { _id current } } }' } }));
    assert.equal(sessions.accountListSessions.total, 1);
    assert.deepEqual(sessions.accountListSessions.sessions[0], { _id: session._id, current: true });
  });

  test('a key lists and reads users as REST does', async () => {
    const address = email();
    const rest = await new (require('node-appwrite-27').Users)(keyed()).create(ID.unique(), address, undefined, PASSWORD, 'Listed');
    const graphql = new Graphql(keyed());
    const found = data(
      await graphql.query({
        query: {
          query: 'query L($q: [String!]) { usersList(queries: $q) { total users { _id email name } } }',
          variables: { q: [`{"method":"equal","attribute":"email","values":["${address}"]}`] },
        },
      }),
    ).usersList;
    assert.deepEqual(found, { total: 1, users: [{ _id: rest.$id, email: address, name: 'Listed' }] });
    const got = data(await graphql.query({ query: { query: `{ usersGet(userId: "${rest.$id}") { _id email } }` } }));
    assert.deepEqual(got.usersGet, { _id: rest.$id, email: address });
  });

  test('errors come back as Appwrite errors per field, with partial results', async () => {
    const guest = new Graphql(new Client().setEndpoint(endpoint).setProject(project));
    const refused = failure(await guest.query({ query: { query: ME } }));
    assert.equal(refused.extensions.code, 401);
    assert.equal(refused.extensions.type, 'general_unauthorized_scope');
    const answer = await new Graphql(keyed()).query({
      query: { query: '{ missing: usersGet(userId: "nobody") { _id } list: usersList { total } }' },
    });
    const missing = failure(answer);
    assert.equal(missing.extensions.type, 'user_not_found');
    assert.deepEqual(missing.path, ['missing']);
    assert.equal(answer.data.missing, null);
    assert.equal(typeof answer.data.list.total, 'number');
  });
});

for (const pkg of ['appwrite-web-26', 'appwrite-web-28']) {
  const { Client, Account, Graphql, ID } = require(pkg);
  const client = () => new Client().setEndpoint(endpoint).setProject(project);

  describe(`${pkg.replace('appwrite-web-', 'appwrite (web) ')} Graphql`, () => {
    beforeEach(() => store.clear());

    test('sign-up, sign-in, get and sign-out through GraphQL with the fallback cookie', async () => {
      const address = email();
      const graphql = new Graphql(client());
      const userId = ID.unique();
      data(await graphql.mutation({ query: { query: SIGN_UP, variables: { userId, email: address, password: PASSWORD } } }));
      const session = data(
        await graphql.mutation({ query: { query: SIGN_IN, variables: { email: address, password: PASSWORD } } }),
      ).accountCreateEmailPasswordSession;
      assert.equal(session.secret, '', 'clients never see the secret');
      assert.ok((store.get('cookieFallback') ?? '').includes(`a_session_${project}`), 'the session rides the fallback cookie');

      const me = data(await graphql.query({ query: { query: ME } })).accountGet;
      const rest = await new Account(client()).get();
      assert.equal(me._id, rest.$id);
      assert.equal(me._id, userId);
      assert.equal(me.email, rest.email);

      const again = failure(
        await graphql.mutation({ query: { query: SIGN_IN, variables: { email: address, password: PASSWORD } } }),
      );
      assert.equal(again.extensions.type, 'user_session_already_exists');

      const out = data(await graphql.mutation({ query: { query: 'mutation { accountDeleteSession(sessionId: "current") { status } }' } }));
      assert.equal(out.accountDeleteSession.status, 'OK', 'a 204 route answers a status');
      await assert.rejects(new Account(client()).get(), (e) => e.code === 401);
    });

    test('a batch runs in order: a later request sees what an earlier one changed', async () => {
      const address = email();
      const graphql = new Graphql(client());
      data(await graphql.mutation({ query: { query: SIGN_UP, variables: { userId: ID.unique(), email: address, password: PASSWORD } } }));
      data(await graphql.mutation({ query: { query: SIGN_IN, variables: { email: address, password: PASSWORD } } }));
      const answers = await graphql.mutation({
        query: [
          { query: 'mutation { accountUpdateName(name: "First") { name } }' },
          { query: '{ accountGet { name } }' },
        ],
      });
      assert.ok(Array.isArray(answers), JSON.stringify(answers));
      assert.equal(data(answers[0]).accountUpdateName.name, 'First');
      assert.equal(data(answers[1]).accountGet.name, 'First');
    });
  });
}
