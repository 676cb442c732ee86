// MFA through the official server SDKs (npm node-appwrite 27.1.0 and 16.0.0) on sessions set
// with `setSession`: a TOTP authenticator, recovery codes, the factor gate on a new login, a
// TOTP challenge, single-use recovery codes, and routes that need a recent challenge. The two
// packages run at once so their waits for a fresh TOTP step overlap.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { code, codeAfter } from './mfa_support.mjs';

const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');
const PASSWORD = 'mfa-password-123';

describe('MFA with node-appwrite', { concurrency: true }, () => {
  for (const pkg of ['node-appwrite-27', 'node-appwrite-16']) {
    const { Client, Account, ID, AppwriteException, AuthenticatorType, AuthenticationFactor } = require(pkg);
    async function rejects(promise, code, type) {
      await assert.rejects(promise, (e) => {
        assert.ok(e instanceof AppwriteException, `${pkg} raised ${e?.constructor?.name}: ${e?.message}`);
        assert.equal(e.code, code, `code of ${e.message}`);
        assert.equal(e.type, type, `type of ${e.message}`);
        return true;
      });
    }
    const admin = () => new Account(new Client().setEndpoint(endpoint).setProject(project).setKey(key));
    const asSession = (secret) => new Account(new Client().setEndpoint(endpoint).setProject(project).setSession(secret));
    const login = async (address) => asSession((await admin().createEmailPasswordSession(address, PASSWORD)).secret);

    test(`${pkg}: authenticator, gate, TOTP challenge, recovery codes`, async () => {
      const address = `${pkg}-mfa-${Math.random().toString(16).slice(2)}@example.com`;
      await admin().create(ID.unique(), address, PASSWORD);
      const me = await login(address);

      const type = await me.createMfaAuthenticator(AuthenticatorType.Totp);
      assert.match(type.uri, /^otpauth:\/\/totp\/SDK%20Conformance%3A.+\?issuer=SDK%20Conformance&secret=[A-Z2-7]+$/);
      await rejects(me.updateMfaAuthenticator(AuthenticatorType.Totp, 'abcdef'), 401, 'user_invalid_token');
      const first = await code(type.secret);
      const account = await me.updateMfaAuthenticator(AuthenticatorType.Totp, first.code);
      assert.equal(account.email, address);
      await rejects(me.createMfaAuthenticator(AuthenticatorType.Totp), 409, 'user_authenticator_already_verified');
      const { recoveryCodes } = await me.createMfaRecoveryCodes();
      assert.equal(recoveryCodes.length, 6);
      await rejects(me.createMfaRecoveryCodes(), 409, 'user_recovery_codes_already_exists');
      assert.equal((await me.updateMFA(true)).mfa, true);
      const factors = await me.listMfaFactors();
      assert.equal(factors.totp, true);
      assert.equal(factors.recoveryCode, true);
      assert.equal(factors.email, false);
      // The enabling session was credited and is not blocked; it has no recent challenge.
      assert.equal((await me.get()).mfa, true);
      await rejects(me.getMfaRecoveryCodes(), 401, 'user_challenge_required');

      // A new login is held in the `mfa` group until a TOTP challenge completes.
      const second = await login(address);
      await rejects(second.get(), 401, 'user_more_factors_required');
      const challenge = await second.createMfaChallenge(AuthenticationFactor.Totp);
      assert.ok(challenge.$id && challenge.expire);
      assert.equal(challenge.code, undefined);
      const next = await codeAfter(type.secret, first.step);
      const session = await second.updateMfaChallenge(challenge.$id, next.code);
      assert.deepEqual([...session.factors], ['password', 'totp']);
      assert.ok(session.mfaUpdatedAt);
      assert.equal(session.secret, '');
      assert.equal((await second.get()).email, address);
      assert.deepEqual([...(await second.getMfaRecoveryCodes()).recoveryCodes], recoveryCodes);

      // A recovery code works once (the SDK enum spells the factor `recoverycode`).
      const third = await login(address);
      const byCode = await third.createMfaChallenge(AuthenticationFactor.Recoverycode);
      assert.deepEqual([...(await third.updateMfaChallenge(byCode.$id, recoveryCodes[0])).factors], ['password', 'recoveryCode']);
      const fourth = await login(address);
      const again = await fourth.createMfaChallenge(AuthenticationFactor.Recoverycode);
      await rejects(fourth.updateMfaChallenge(again.$id, recoveryCodes[0]), 401, 'user_invalid_token');
      await rejects(fourth.get(), 401, 'user_more_factors_required');

      // Regenerating and deleting need the recent challenge the first session lacks.
      await rejects(me.updateMfaRecoveryCodes(), 401, 'user_challenge_required');
      await rejects(me.deleteMfaAuthenticator(AuthenticatorType.Totp), 401, 'user_challenge_required');
      const fresh = await third.updateMfaRecoveryCodes();
      assert.equal(fresh.recoveryCodes.length, 6);
      assert.notDeepEqual([...fresh.recoveryCodes], recoveryCodes);
      await third.deleteMfaAuthenticator(AuthenticatorType.Totp);
      await rejects(third.deleteMfaAuthenticator(AuthenticatorType.Totp), 404, 'user_authenticator_not_found');
      assert.equal((await third.listMfaFactors()).totp, false);
      assert.equal((await third.updateMFA(false)).mfa, false);
    });
  }
});
