// A 1.4-era server SDK (npm node-appwrite 11.1.1, response format 1.4.0): its Account service
// only has session-bound methods, so the session is made over plain HTTP with the key and the
// SDK runs on a JWT. It sends the pre-1.5 query syntax and expects the 1.4 model shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Client, Account, Query } = require('node-appwrite-11');
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;

async function post(path, body, headers = {}) {
  const r = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-appwrite-project': project, ...headers },
    body: JSON.stringify(body),
  });
  assert.ok(r.ok, `${path}: ${r.status}`);
  return r.json();
}

async function rejects(promise, code, type) {
  await assert.rejects(promise, (e) => e.code === code && e.type === type);
}

test('node-appwrite 11.1.1 (Appwrite 1.4) works on a JWT with old queries and old models', async () => {
  const email = `legacy-${Math.random().toString(16).slice(2)}@example.com`;
  await post('/account', { userId: 'unique()', email, password: 'legacy-password' });
  const session = await post('/account/sessions/email', { email, password: 'legacy-password' }, { 'x-appwrite-key': key });
  const { jwt } = await post('/account/jwt', {}, { 'x-appwrite-session': session.secret });
  const me = new Account(new Client().setEndpoint(endpoint).setProject(project).setJWT(jwt));

  const user = await me.get();
  assert.equal(user.email, email);
  assert.ok(!('targets' in user) && !('mfa' in user), '1.4 accounts have no targets or mfa');
  assert.equal((await me.updateName('Legacy')).name, 'Legacy');
  assert.deepEqual({ ...(await me.updatePrefs({ v: 14 })).prefs }, { v: 14 });
  const ids = await me.listIdentities([Query.limit(5), Query.equal('provider', ['github'])]);
  assert.equal(ids.total, 0);
  // Old-syntax limits really page: four events exist (user.create, session.create and the
  // two updates above), newest first.
  const logs = await me.listLogs([Query.limit(1)]);
  assert.equal(logs.total, 4);
  assert.equal(logs.logs.length, 1);
  assert.equal(logs.logs[0].event, 'user.update');
  const sessions = await me.listSessions();
  assert.equal(sessions.total, 1);
  assert.ok(!('factors' in sessions.sessions[0]) && !('secret' in sessions.sessions[0]));
  await rejects(me.getSession('current'), 404, 'user_session_not_found');
  await rejects(me.listIdentities(['limit(']), 400, 'general_query_invalid');
});
