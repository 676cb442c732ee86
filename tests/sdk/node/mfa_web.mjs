// The MFA flow of the web SDK suites (mfa-web26/28.test.mjs), run with the SDK's own
// `X-Fallback-Cookies` session: each package in its own process, as each has one session store.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { code, codeAfter } from './mfa_support.mjs';
import { installLocalStorage } from './local_storage.mjs';

export function webMfaSuite(pkg) {
  const store = installLocalStorage();
  const require = createRequire(import.meta.url);
  const { Client, Account, ID, AuthenticatorType, AuthenticationFactor } = require(pkg);
  const endpoint = process.env.LATCHKEY_ENDPOINT;
  const project = process.env.LATCHKEY_PROJECT;
  assert.ok(endpoint && project, 'LATCHKEY_ENDPOINT and LATCHKEY_PROJECT are required');
  const PASSWORD = 'web-mfa-password-123';
  async function rejects(promise, code, type) {
    await assert.rejects(promise, (e) => {
      assert.equal(e.code, code, `code of ${e.message}`);
      assert.equal(e.type, type, `type of ${e.message}`);
      return true;
    });
  }
  beforeEach(() => store.clear());

  test(`${pkg}: enable MFA, sign in again through a TOTP challenge, spend a recovery code`, async () => {
    const me = new Account(new Client().setEndpoint(endpoint).setProject(project));
    const address = `${pkg}-mfa-${Math.random().toString(16).slice(2)}@example.com`;
    await me.create(ID.unique(), address, PASSWORD);
    await me.createEmailPasswordSession(address, PASSWORD);
    const type = await me.createMfaAuthenticator(AuthenticatorType.Totp);
    const first = await code(type.secret);
    await me.updateMfaAuthenticator(AuthenticatorType.Totp, first.code);
    const { recoveryCodes } = await me.createMfaRecoveryCodes();
    assert.equal((await me.updateMFA(true)).mfa, true);

    await me.deleteSession('current');
    const session = await me.createEmailPasswordSession(address, PASSWORD);
    assert.deepEqual([...session.factors], ['password']);
    await rejects(me.get(), 401, 'user_more_factors_required');
    assert.equal((await me.listMfaFactors()).totp, true);
    if (AuthenticationFactor.Custom) {
      // 2.x: the custom factor (on in the test project); its code reaches only the server.
      assert.equal((await me.listMfaFactors()).custom, true);
      const custom = await me.createMfaChallenge(AuthenticationFactor.Custom);
      await rejects(me.updateMfaChallenge(custom.$id, 'not-the-code'), 401, 'user_invalid_token');
    }
    const challenge = await me.createMfaChallenge(AuthenticationFactor.Totp);
    const next = await codeAfter(type.secret, first.step);
    const done = await me.updateMfaChallenge(challenge.$id, next.code);
    assert.deepEqual([...done.factors], ['password', 'totp']);
    assert.equal((await me.get()).mfa, true);
    const fresh = (await me.updateMfaRecoveryCodes()).recoveryCodes;
    assert.equal(fresh.length, 6);
    assert.ok(!fresh.includes(recoveryCodes[0]), 'regenerated');

    await me.deleteSession('current');
    await me.createEmailPasswordSession(address, PASSWORD);
    const byCode = await me.createMfaChallenge(AuthenticationFactor.Recoverycode);
    await me.updateMfaChallenge(byCode.$id, fresh[0]);
    assert.deepEqual([...(await me.getMfaRecoveryCodes()).recoveryCodes], fresh.slice(1));
    await me.deleteSession('current');
    await me.createEmailPasswordSession(address, PASSWORD);
    const reuse = await me.createMfaChallenge(AuthenticationFactor.Recoverycode);
    await rejects(me.updateMfaChallenge(reuse.$id, fresh[0]), 401, 'user_invalid_token');
    await rejects(me.updateMfaChallenge(reuse.$id, recoveryCodes[1]), 401, 'user_invalid_token');
    await rejects(me.get(), 401, 'user_more_factors_required');
  });
}
