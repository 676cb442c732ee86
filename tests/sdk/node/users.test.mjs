// The official server SDKs' Users service (npm node-appwrite 27.1.0 and 16.0.0) against a
// running latchkey: every Users method with its success path and an error path. Imported
// hashes are made at test time by Node's own crypto (OpenSSL: MD5, SHA, scrypt).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');

const PASSWORD = 'sdk-password-123';
// github.com/firebase/scrypt README: the sample project's parameters and user.
const FIREBASE = {
  signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
  saltSeparator: 'Bw==',
  salt: '42xEC+ixf3L2lw==',
  password: 'user1password',
  hash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
};

for (const pkg of ['node-appwrite-27', 'node-appwrite-16']) {
  const { Client, Account, Users, ID, Query, AppwriteException } = require(pkg);
  async function rejects(promise, code, type) {
    await assert.rejects(promise, (e) => {
      assert.ok(e instanceof AppwriteException, `${pkg} raised ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.code, code, `code of ${e.message}`);
      assert.equal(e.type, type, `type of ${e.message}`);
      return true;
    });
  }
  const tag = () => Math.random().toString(16).slice(2, 12);
  const email = () => `${pkg}-${tag()}@example.com`;
  const keyed = () => new Client().setEndpoint(endpoint).setProject(project).setKey(key);
  const users = new Users(keyed());
  const admin = new Account(keyed());
  const asSession = (secret) => new Account(new Client().setEndpoint(endpoint).setProject(project).setSession(secret));
  const asJwt = (jwt) => new Account(new Client().setEndpoint(endpoint).setProject(project).setJWT(jwt));
  const guest = () => new Account(new Client().setEndpoint(endpoint).setProject(project));

  async function newUser(extra = {}) {
    const id = ID.unique();
    const address = email();
    const user = await users.create(id, address, extra.phone, PASSWORD, extra.name ?? 'Users SDK');
    return { id: user.$id, address, user };
  }

  describe(`${pkg} Users`, () => {
    test('create, get and list with queries, search and total', async () => {
      const name = `Findme ${tag()}`;
      const { id, address, user } = await newUser({ name });
      assert.equal(user.email, address);
      assert.equal(user.hash, 'argon2');
      assert.ok(user.password.startsWith('$argon2id$'));
      assert.equal(user.hashOptions.type, 'argon2');
      assert.equal((await users.get(id)).name, name);
      const byName = await users.list([Query.equal('name', [name])]);
      assert.equal(byName.total, 1);
      assert.equal(byName.users[0].$id, id);
      const bySearch = await users.list([], name.split(' ')[1]);
      assert.deepEqual(bySearch.users.map((u) => u.$id), [id]);
      const limited = await users.list([Query.limit(1)]);
      assert.equal(limited.users.length, 1);
      assert.ok(limited.total >= 1);
      if (pkg === 'node-appwrite-27') {
        assert.equal((await users.list([Query.limit(1)], undefined, false)).total, 0);
      }
      await rejects(users.get('no-such-user'), 404, 'user_not_found');
      await rejects(users.create(id), 409, 'user_already_exists');
      await rejects(users.list([Query.equal('password', ['x'])]), 400, 'general_argument_invalid');
    });

    test('imported MD5, SHA, scrypt and Firebase users sign in once and are re-hashed', async () => {
      const scryptSalt = tag();
      const cases = [
        ['md5', (id, e) => users.createMD5User(id, e, crypto.createHash('md5').update('md5-pass').digest('hex')), 'md5-pass', 'md5'],
        ['sha1', (id, e) => users.createSHAUser(id, e, crypto.createHash('sha1').update('sha-pass').digest('hex'), 'sha1'), 'sha-pass', 'sha'],
        ['sha3', (id, e) => users.createSHAUser(id, e, crypto.createHash('sha3-256').update('sha3-pass').digest('hex'), 'sha3-256'), 'sha3-pass', 'sha'],
        ['scrypt', (id, e) => users.createScryptUser(id, e,
          crypto.scryptSync('scrypt-pass', scryptSalt, 32, { N: 1024, r: 8, p: 1 }).toString('hex'),
          scryptSalt, 1024, 8, 1, 32), 'scrypt-pass', 'scrypt'],
        ['firebase', (id, e) => users.createScryptModifiedUser(id, e, FIREBASE.hash, FIREBASE.salt,
          FIREBASE.saltSeparator, FIREBASE.signerKey), FIREBASE.password, 'scryptMod'],
      ];
      for (const [label, create, password, algorithm] of cases) {
        const id = ID.unique();
        const address = email();
        const created = await create(id, address);
        assert.equal(created.hash, algorithm, label);
        await rejects(admin.createEmailPasswordSession(address, `${password}!`), 401, 'user_invalid_credentials');
        assert.equal((await users.get(id)).hash, algorithm, `${label} before a login`);
        const session = await admin.createEmailPasswordSession(address, password);
        assert.equal(session.userId, id, label);
        const after = await users.get(id);
        assert.equal(after.hash, 'argon2', `${label} re-hashed`);
        assert.ok(after.password.startsWith('$argon2id$'), label);
      }
      await rejects(users.createMD5User(ID.unique(), email(), 'not-hex'), 400, 'general_argument_invalid');
      await rejects(users.createBcryptUser(ID.unique(), email(), '$2y$99$nope'), 400, 'general_argument_invalid');
      await rejects(users.createPHPassUser(ID.unique(), email(), '$P$short'), 400, 'general_argument_invalid');
      await rejects(users.createArgon2User(ID.unique(), email(), 'not-a-phc-string'), 400, 'general_argument_invalid');
    });

    test('updateName, Email, Phone, Password, Status, Labels, Prefs and both verifications', async () => {
      const { id } = await newUser();
      assert.equal((await users.updateName(id, 'Renamed')).name, 'Renamed');
      const address = email();
      const changed = await users.updateEmail(id, address);
      assert.equal(changed.email, address);
      assert.equal(changed.emailVerification, false);
      const phone = `+1650${Math.floor(1e6 + Math.random() * 8e6)}`;
      assert.equal((await users.updatePhone(id, phone)).phone, phone);
      assert.equal((await users.updateEmailVerification(id, true)).emailVerification, true);
      assert.equal((await users.updatePhoneVerification(id, true)).phoneVerification, true);
      assert.deepEqual([...(await users.updateLabels(id, ['admin', 'vip'])).labels], ['admin', 'vip']);
      const prefs = await users.updatePrefs(id, { theme: 'dark' });
      assert.equal(prefs.theme, 'dark');
      assert.equal((await users.getPrefs(id)).theme, 'dark');
      await users.updatePassword(id, 'another-password-1');
      const session = await admin.createEmailPasswordSession(address, 'another-password-1');
      assert.equal((await users.updateStatus(id, false)).status, false);
      await rejects(asSession(session.secret).get(), 403, 'user_blocked');
      await users.updateStatus(id, true);
      assert.equal((await asSession(session.secret).get()).$id, id);
      await rejects(users.updateLabels(id, ['not valid!']), 400, 'general_argument_invalid');
      await rejects(users.updateEmail('no-such-user', email()), 404, 'user_not_found');
      await rejects(users.updatePassword(id, 'short'), 400, 'general_argument_invalid');
    });

    test('createSession, listSessions, deleteSession and deleteSessions', async () => {
      const { id } = await newUser();
      const made = await users.createSession(id);
      assert.equal(made.provider, 'server');
      assert.equal((await asSession(made.secret).get()).$id, id);
      const second = await users.createSession(id);
      const list = await users.listSessions(id);
      assert.equal(list.total, 2);
      await users.deleteSession(id, second.$id);
      await rejects(users.deleteSession(id, second.$id), 404, 'user_session_not_found');
      await users.deleteSessions(id);
      assert.equal((await users.listSessions(id)).total, 0);
      await rejects(asSession(made.secret).get(), 401, 'general_unauthorized_scope');
    });

    test('createToken is exchanged once by account.createSession', async () => {
      const { id } = await newUser();
      const token = await users.createToken(id, 12, 120);
      assert.equal(token.secret.length, 12);
      const session = await guest().createSession(id, token.secret);
      assert.equal(session.userId, id);
      await rejects(guest().createSession(id, token.secret), 401, 'user_invalid_token');
      await rejects(users.createToken(id, 2), 400, 'general_argument_invalid');
    });

    test('createJWT with the recent session, and session-less for a user with none', async () => {
      const { id } = await newUser();
      const bare = await users.createJWT(id);
      assert.equal((await asJwt(bare.jwt).get()).$id, id);
      await users.createSession(id);
      const jwt = await users.createJWT(id, 'recent', 120);
      assert.equal((await asJwt(jwt.jwt).get()).$id, id);
      await rejects(users.createJWT(id, 'nosuchsession'), 404, 'user_session_not_found');
    });

    test('MFA: updateMfa, listMfaFactors, recovery codes and deleteMfaAuthenticator', async () => {
      const { id } = await newUser();
      assert.equal((await users.updateMfa(id, true)).mfa, true);
      const factors = await users.listMfaFactors(id);
      assert.equal(factors.totp, false);
      await rejects(users.getMfaRecoveryCodes(id), 404, 'user_recovery_codes_not_found');
      const codes = await users.createMfaRecoveryCodes(id);
      assert.equal(codes.recoveryCodes.length, 6);
      await rejects(users.createMfaRecoveryCodes(id), 409, 'user_recovery_codes_already_exists');
      assert.deepEqual([...(await users.getMfaRecoveryCodes(id)).recoveryCodes], [...codes.recoveryCodes]);
      const fresh = await users.updateMfaRecoveryCodes(id);
      assert.notDeepEqual([...fresh.recoveryCodes], [...codes.recoveryCodes]);
      await rejects(users.deleteMfaAuthenticator(id, 'totp'), 404, 'user_authenticator_not_found');
      assert.equal((await users.updateMfa(id, false)).mfa, false);
    });

    test('targets: create, list with a query, get, update and delete', async () => {
      const { id, address } = await newUser();
      const target = await users.createTarget(id, ID.unique(), 'push', `device-${tag()}`, undefined, 'Phone');
      assert.equal(target.providerType, 'push');
      const all = await users.listTargets(id);
      assert.equal(all.total, 2, 'the email target and the push one');
      const email = await users.listTargets(id, [Query.equal('providerType', ['email'])]);
      assert.equal(email.targets[0].identifier, address);
      assert.equal((await users.getTarget(id, target.$id)).name, 'Phone');
      assert.equal((await users.updateTarget(id, target.$id, undefined, undefined, 'Tablet')).name, 'Tablet');
      await users.deleteTarget(id, target.$id);
      await rejects(users.getTarget(id, target.$id), 404, 'user_target_not_found');
      await rejects(users.createTarget(id, ID.unique(), 'email', 'not-an-email'), 400, 'general_invalid_email');
    });

    test('listLogs, listMemberships, listIdentities and deleteIdentity', async () => {
      const { id } = await newUser();
      const logs = await users.listLogs(id);
      assert.equal(logs.logs[0].event, 'user.create');
      const memberships = await users.listMemberships(id);
      assert.equal(memberships.total, 0);
      assert.deepEqual([...memberships.memberships], []);
      const identities = await users.listIdentities([Query.equal('userId', [id])]);
      assert.equal(identities.total, 0);
      await rejects(users.deleteIdentity('no-such-identity'), 404, 'user_identity_not_found');
    });

    test('delete removes the user for real: its id and email are free again', async () => {
      const { id, address } = await newUser();
      const made = await users.createSession(id);
      await users.delete(id);
      await rejects(users.get(id), 404, 'user_not_found');
      await rejects(asSession(made.secret).get(), 401, 'general_unauthorized_scope');
      const again = await users.create(id, address);
      assert.equal(again.$id, id);
      assert.equal((await users.listSessions(id)).total, 0);
      await rejects(users.delete('no-such-user'), 404, 'user_not_found');
    });
  });
}
