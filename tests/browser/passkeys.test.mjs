// Passkeys in a real browser: Debian's Chromium with a CDP virtual authenticator registers a
// passkey and signs in with it through npm `appwrite` 28.0.0 on a page served apart from
// latchkey (http://localhost:<page port> against http://localhost:<api port>).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, addVirtualAuthenticator } from './chromium.mjs';
import { startPageServer } from './page_server.mjs';

const endpoint = process.env.LATCHKEY_ENDPOINT; // http://localhost:<port>/v1
const project = process.env.LATCHKEY_PROJECT;
assert.ok(endpoint && project, 'LATCHKEY_ENDPOINT and LATCHKEY_PROJECT are required');

let pages;
let browser;
before(async () => {
  pages = await startPageServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  pages?.close();
});

async function openApp() {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('page:', m.text());
  });
  await page.goto(`http://localhost:${pages.port}/`);
  await page.evaluate(([e, p]) => window.lk.connect(e, p), [endpoint, project]);
  return page;
}

test('a passkey registered in Chromium signs the user in without a password', async () => {
  const page = await openApp();
  const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
  const email = `browser-${Date.now()}@example.com`;
  const registered = await page.evaluate(async (email) => {
    const user = await window.lk.account.create({ userId: 'unique()', email, password: 'browser-password-1' });
    await window.lk.account.createEmailPasswordSession({ email, password: 'browser-password-1' });
    const passkey = await window.lk.registerPasskey('Chromium');
    const list = await window.lk.call('get', '/account/passkeys');
    return { user, passkey, list };
  }, email);
  assert.equal(registered.passkey.name, 'Chromium');
  assert.equal(registered.list.total, 1);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');
  assert.equal(credentials[0].rpId, 'localhost');

  const signedIn = await page.evaluate(async () => {
    await window.lk.account.deleteSession({ sessionId: 'current' });
    const session = await window.lk.signInWithPasskey();
    const me = await window.lk.account.get();
    return { session, me };
  });
  assert.equal(signedIn.session.provider, 'passkey');
  assert.deepEqual(signedIn.session.factors, ['passkey', 'userVerification']);
  assert.equal(signedIn.me.email, email);
  assert.equal(signedIn.me.$id, registered.user.$id);

  // A real signature counter went past zero, and the server took it (a counter that did not
  // grow would have been refused as a cloned authenticator).
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount > 0, JSON.stringify(after.credentials[0]));

  // Deleted on the server, the passkey the browser still holds signs no one in: latchkey
  // refuses the browser's assertion.
  const refused = await page.evaluate(async (id) => {
    await window.lk.call('delete', `/account/passkeys/${id}`);
    await window.lk.account.deleteSession({ sessionId: 'current' });
    try {
      await window.lk.signInWithPasskey();
      return null;
    } catch (e) {
      return { code: e.code, type: e.type };
    }
  }, registered.passkey.$id);
  assert.deepEqual(refused, { code: 401, type: 'user_passkey_invalid' });
  await page.close();
});
