// The official server SDKs (npm node-appwrite 27.1.0 and 16.0.0) against a running latchkey:
// an API key creates the account and session, `session.secret` goes to `setSession`, and
// every Account method in scope is called with its success path and an error path.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');

const PASSWORD = 'sdk-password-123';

for (const pkg of ['node-appwrite-27', 'node-appwrite-16']) {
  const { Client, Account, ID, Query, AppwriteException } = require(pkg);
  // Errors must reach the caller as the SDK's own exception type, parsed from our JSON.
  async function rejects(promise, code, type) {
    await assert.rejects(promise, (e) => {
      assert.ok(e instanceof AppwriteException, `${pkg} raised ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.code, code, `code of ${e.message}`);
      assert.equal(e.type, type, `type of ${e.message}`);
      return true;
    });
  }
  const email = () => `${pkg}-${Math.random().toString(16).slice(2)}@example.com`;
  const admin = () => new Account(new Client().setEndpoint(endpoint).setProject(project).setKey(key));
  const asSession = (secret) => new Account(new Client().setEndpoint(endpoint).setProject(project).setSession(secret));

  async function signIn() {
    const address = email();
    const user = await admin().create(ID.unique(), address, PASSWORD, 'SDK User');
    const session = await admin().createEmailPasswordSession(address, PASSWORD);
    return { address, user, session, me: asSession(session.secret) };
  }

  describe(pkg, () => {
    test('create and createEmailPasswordSession reveal the secret to the key, and setSession works', async () => {
      const { address, user, session, me } = await signIn();
      assert.equal(user.email, address);
      assert.equal(user.targets[0].identifier, address);
      assert.ok(session.secret.length > 300, 'encoded session secret');
      assert.equal(session.current, true);
      assert.deepEqual([...session.factors], ['password']);
      const account = await me.get();
      assert.equal(account.$id, user.$id);
      assert.equal(account.name, 'SDK User');
    });

    test('create rejects a duplicate email and a weak password', async () => {
      const { address } = await signIn();
      await rejects(admin().create(ID.unique(), address, PASSWORD), 409, 'user_already_exists');
      await rejects(admin().create(ID.unique(), email(), 'short'), 400, 'general_argument_invalid');
    });

    test('createEmailPasswordSession rejects a wrong password', async () => {
      const { address } = await signIn();
      await rejects(admin().createEmailPasswordSession(address, 'wrong-password'), 401, 'user_invalid_credentials');
    });

    test('get without a session is a scope error', async () => {
      await rejects(admin().get(), 401, 'general_unauthorized_scope');
    });

    test('updateName, updatePrefs and getPrefs', async () => {
      const { me } = await signIn();
      assert.equal((await me.updateName('Renamed')).name, 'Renamed');
      const updated = await me.updatePrefs({ theme: 'dark', n: 2 });
      assert.equal(updated.prefs.theme, 'dark');
      assert.deepEqual({ ...(await me.getPrefs()) }, { theme: 'dark', n: 2 });
      await rejects(me.updateName(''), 400, 'general_argument_invalid');
    });

    test('updatePassword needs the old password', async () => {
      const { address, me } = await signIn();
      await rejects(me.updatePassword('new-password-456', 'wrong-old-pass'), 401, 'user_invalid_credentials');
      await me.updatePassword('new-password-456', PASSWORD);
      const again = await admin().createEmailPasswordSession(address, 'new-password-456');
      assert.ok(again.secret);
    });

    test('updateEmail and updatePhone', async () => {
      const { me } = await signIn();
      const next = email();
      assert.equal((await me.updateEmail(next, PASSWORD)).email, next);
      await rejects(me.updateEmail(email(), 'wrong-password'), 401, 'user_invalid_credentials');
      const phone = '+1650' + String(Math.floor(1000000 + Math.random() * 8999999));
      assert.equal((await me.updatePhone(phone, PASSWORD)).phone, phone);
      await rejects(me.updatePhone('12345', PASSWORD), 400, 'general_argument_invalid');
    });

    test('listSessions, getSession, updateSession, deleteSession and deleteSessions', async () => {
      const { address, me, session } = await signIn();
      const second = await admin().createEmailPasswordSession(address, PASSWORD);
      const list = await me.listSessions();
      assert.equal(list.total, 2);
      assert.equal(list.sessions.filter((s) => s.current).length, 1);
      assert.equal((await me.getSession('current')).$id, session.$id);
      assert.equal((await me.updateSession('current')).$id, session.$id);
      await rejects(me.getSession('missing'), 404, 'user_session_not_found');
      await me.deleteSession(second.$id);
      assert.equal((await me.listSessions()).total, 1);
      await me.deleteSessions();
      await rejects(me.get(), 401, 'general_unauthorized_scope');
    });

    test('createAnonymousSession through the key', async () => {
      const s = await admin().createAnonymousSession();
      assert.equal(s.provider, 'anonymous');
      const account = await asSession(s.secret).get();
      assert.equal(account.email, '');
    });

    test('createJWT and a JWT client', async () => {
      const { me, user } = await signIn();
      const { jwt } = await me.createJWT();
      const viaJwt = new Account(new Client().setEndpoint(endpoint).setProject(project).setJWT(jwt));
      assert.equal((await viaJwt.get()).$id, user.$id);
      await rejects(viaJwt.createJWT(), 403, 'user_jwt_creation_denied');
    });

    test('listIdentities with queries and deleteIdentity of an unknown id', async () => {
      const { me } = await signIn();
      const list = await me.listIdentities([Query.limit(5)]);
      assert.equal(list.total, 0);
      assert.equal(list.identities.length, 0);
      await rejects(me.deleteIdentity('missing'), 404, 'user_identity_not_found');
      await rejects(me.listIdentities(['not-a-query']), 400, 'general_argument_invalid');
    });

    test('listLogs shows the account events', async () => {
      const { me } = await signIn();
      const logs = await me.listLogs([Query.limit(10)]);
      assert.deepEqual([...logs.logs.map((l) => l.event)], ['session.create', 'user.create']);
    });

    test('oversized and too deeply nested prefs are Appwrite errors the SDK parses, and nothing is saved', async () => {
      const { me } = await signIn();
      await rejects(me.updatePrefs({ blob: 'x'.repeat(300 * 1024) }), 413, 'general_bad_request');
      let deep = { leaf: 1 };
      for (let i = 0; i < 70; i++) deep = { a: deep };
      await rejects(me.updatePrefs(deep), 400, 'general_argument_invalid');
      assert.deepEqual({ ...(await me.getPrefs()) }, {});
    });

    test('updateStatus blocks the account', async () => {
      const { me, address } = await signIn();
      const blocked = await me.updateStatus();
      assert.equal(blocked.status, false);
      await rejects(me.get(), 403, 'user_blocked');
      await rejects(admin().createEmailPasswordSession(address, PASSWORD), 403, 'user_blocked');
    });
  });
}
