// The official web SDK (npm appwrite 26.2.0) under Node. Node's fetch keeps no cookies, so a
// minimal `window.localStorage` turns on the SDK's own `X-Fallback-Cookies` session path, the
// one browsers without third-party cookies use.
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { installLocalStorage } from './local_storage.mjs';

const store = installLocalStorage();
const require = createRequire(import.meta.url);
const { Client, Account, ID, Query } = require('appwrite-web-26');

const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
assert.ok(endpoint && project, 'LATCHKEY_ENDPOINT and LATCHKEY_PROJECT are required');
const PASSWORD = 'web-password-123';

const email = () => `web-${Math.random().toString(16).slice(2)}@example.com`;
const account = () => new Account(new Client().setEndpoint(endpoint).setProject(project));

async function rejects(promise, code, type) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `code of ${e.message}`);
    assert.equal(e.type, type, `type of ${e.message}`);
    return true;
  });
}

async function signUpAndIn() {
  const address = email();
  const me = account();
  const user = await me.create(ID.unique(), address, PASSWORD, 'Web User');
  const session = await me.createEmailPasswordSession(address, PASSWORD);
  return { address, user, session, me };
}

describe('appwrite (web) 26.2.0', () => {
  beforeEach(() => store.clear());

  test('sign-up, sign-in and get through the fallback cookie', async () => {
    const { user, session, me, address } = await signUpAndIn();
    assert.equal(session.secret, '', 'clients never see the secret');
    assert.ok(store.get('cookieFallback').includes(`a_session_${project}`));
    const got = await me.get();
    assert.equal(got.$id, user.$id);
    assert.equal(got.email, address);
    await rejects(me.createEmailPasswordSession(address, PASSWORD), 401, 'user_session_already_exists');
  });

  test('a guest gets scope errors and bad credentials are refused', async () => {
    await rejects(account().get(), 401, 'general_unauthorized_scope');
    await rejects(account().createEmailPasswordSession('nobody@example.com', PASSWORD), 401, 'user_invalid_credentials');
    await rejects(account().create('_bad', email(), PASSWORD), 400, 'general_argument_invalid');
  });

  test('profile updates: name, prefs, password, email, phone', async () => {
    const { me } = await signUpAndIn();
    assert.equal((await me.updateName('Web Renamed')).name, 'Web Renamed');
    assert.equal((await me.updatePrefs({ lang: 'en' })).prefs.lang, 'en');
    assert.deepEqual({ ...(await me.getPrefs()) }, { lang: 'en' });
    await me.updatePassword('web-password-456', PASSWORD);
    await rejects(me.updatePassword('web-password-789'), 401, 'user_invalid_credentials');
    const next = email();
    assert.equal((await me.updateEmail(next, 'web-password-456')).email, next);
    const phone = '+1650' + String(Math.floor(1000000 + Math.random() * 8999999));
    assert.equal((await me.updatePhone(phone, 'web-password-456')).phone, phone);
  });

  test('sessions: list, get, update, delete one, delete all', async () => {
    const { me, session } = await signUpAndIn();
    const list = await me.listSessions();
    assert.equal(list.total, 1);
    assert.equal(list.sessions[0].current, true);
    assert.equal((await me.getSession('current')).$id, session.$id);
    assert.equal((await me.updateSession(session.$id)).$id, session.$id);
    await rejects(me.deleteSession('nope'), 404, 'user_session_not_found');
    await me.deleteSession('current');
    assert.equal(store.get('cookieFallback'), '[]');
    await rejects(me.get(), 401, 'general_unauthorized_scope');
    const again = await signUpAndIn();
    await again.me.deleteSessions();
    await rejects(again.me.get(), 401, 'general_unauthorized_scope');
  });

  test('anonymous session, then conversion by updateEmail', async () => {
    const me = account();
    const s = await me.createAnonymousSession();
    assert.equal(s.provider, 'anonymous');
    const address = email();
    const converted = await me.updateEmail(address, PASSWORD);
    assert.equal(converted.email, address);
  });

  test('createJWT, then a JWT-only client', async () => {
    const { me, user } = await signUpAndIn();
    const { jwt } = await me.createJWT();
    store.clear(); // the polyfilled storage is global: a JWT client must not also send the cookie
    const viaJwt = new Account(new Client().setEndpoint(endpoint).setProject(project).setJWT(jwt));
    assert.equal((await viaJwt.get()).$id, user.$id);
  });

  test('identities and logs', async () => {
    const { me } = await signUpAndIn();
    const ids = await me.listIdentities([Query.limit(3)], false);
    assert.equal(ids.total, 0);
    await rejects(me.deleteIdentity('missing'), 404, 'user_identity_not_found');
    const logs = await me.listLogs();
    assert.equal(logs.logs[0].event, 'session.create');
  });

  test('push targets: create, update, delete', async () => {
    const { me } = await signUpAndIn();
    const t = await me.createPushTarget(ID.unique(), 'device-token-1');
    assert.equal(t.providerType, 'push');
    assert.equal((await me.updatePushTarget(t.$id, 'device-token-2')).identifier, 'device-token-2');
    await me.deletePushTarget(t.$id);
    await rejects(me.deletePushTarget(t.$id), 404, 'user_target_not_found');
  });

  test('updateStatus blocks the account, clears the fallback cookie and the account is refused', async () => {
    const { me, address } = await signUpAndIn();
    const before = store.get('cookieFallback');
    assert.equal((await me.updateStatus()).status, false);
    assert.equal(store.get('cookieFallback'), '[]');
    // The old session (as a copy of the cookie would carry it) no longer works…
    store.set('cookieFallback', before);
    await rejects(me.get(), 403, 'user_blocked');
    store.clear();
    // …and neither does signing in again.
    await rejects(account().createEmailPasswordSession(address, PASSWORD), 403, 'user_blocked');
  });
});
