// Token flows through the official SDKs, reading codes and links from the emails and SMS that
// reached the test run's real SMTP server (aiosmtpd) and Twilio-shaped SMS endpoint: the web
// SDK 28.0.0 (response format 2.3.0, with the 2.x OTP routes) as a browser would use it, and
// node-appwrite 27.1.0 (1.9.5) as a server with an API key.
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLocalStorage } from './local_storage.mjs';

const store = installLocalStorage();
const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
const mailDir = process.env.LATCHKEY_MAIL_DIR;
const smsDir = process.env.LATCHKEY_SMS_DIR;
assert.ok(endpoint && project && key && mailDir && smsDir, 'LATCHKEY_ENDPOINT, _PROJECT, _KEY, _MAIL_DIR and _SMS_DIR are required');
const PASSWORD = 'delivery-password-123';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The `n`th message in `dir` that `match`es, waiting up to 20 s for it.
async function received(dir, match, n = 1) {
  for (let i = 0; i < 400; i++) {
    const found = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).filter(match);
    if (found.length >= n) return found[n - 1];
    await sleep(50);
  }
  throw new Error(`no message matched in ${dir}`);
}
const mailTo = (address, n) => received(mailDir, (m) => m.rcpt_tos.includes(address), n);
const smsTo = (phone) => received(smsDir, (m) => m.form.To === phone);
const codeOf = (mail) => mail.text.match(/\b\d{6}\b/)[0];
const linkOf = (mail) => new URL(mail.text.match(/https?:\/\/\S+/)[0]);
const email = () => `delivery-${Math.random().toString(16).slice(2)}@example.com`;

async function rejects(promise, code, type) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `code of ${e.message}`);
    assert.equal(e.type, type, `type of ${e.message}`);
    return true;
  });
}

describe('appwrite (web) 28.0.0', () => {
  const { Client, Account, ID } = require('appwrite-web-28');
  const account = () => new Account(new Client().setEndpoint(endpoint).setProject(project));
  beforeEach(() => store.clear());

  test('an emailed code becomes a session; the 2.x account model has passwordPwned', async () => {
    const address = email();
    const token = await account().createEmailToken({ userId: ID.unique(), email: address, phrase: true });
    assert.equal(token.secret, '');
    const mail = await mailTo(address);
    assert.equal(mail.subject, 'OTP for SDK Conformance Login');
    assert.ok(mail.text.includes(token.phrase));
    const me = account();
    const session = await me.createSession({ userId: token.userId, secret: codeOf(mail) });
    assert.equal(session.provider, 'token');
    const got = await me.get();
    assert.equal(got.emailVerification, true);
    assert.ok('passwordPwned' in got, 'format 2.3.0 gets the 2.x field');
    store.clear(); // a signed-out browser
    await rejects(account().createSession({ userId: token.userId, secret: codeOf(mail) }), 401, 'user_invalid_token');
  });

  test('a magic link opens the page with userId and secret; the deprecated PUT exchanges it', async () => {
    const address = email();
    await account().createMagicURLToken({ userId: ID.unique(), email: address, url: 'http://localhost/magic' });
    const link = linkOf(await mailTo(address));
    assert.equal(link.pathname, '/magic');
    const session = await account().updateMagicURLSession(link.searchParams.get('userId'), link.searchParams.get('secret'));
    assert.equal(session.provider, 'magic-url');
    await rejects(account().createMagicURLToken({ userId: ID.unique(), email: email(), url: 'https://evil.example.org' }), 400, 'general_argument_invalid');
  });

  test('recovery by link, then by 2.x code', async () => {
    const address = email();
    const me = account();
    const user = await me.create(ID.unique(), address, PASSWORD);
    await account().createRecovery({ email: address, url: 'http://localhost/reset' });
    const link = linkOf(await mailTo(address));
    await account().updateRecovery({ userId: user.$id, secret: link.searchParams.get('secret'), password: 'after-link-123' });
    await account().createRecoveryOTP({ email: address });
    const code = codeOf(await mailTo(address, 2));
    await rejects(account().updateRecovery({ userId: user.$id, secret: code, password: 'after-code-123' }), 401, 'user_invalid_token');
    await account().updateRecoveryOTP({ userId: user.$id, secret: code, password: 'after-code-123' });
    await me.createEmailPasswordSession(address, 'after-code-123');
  });

  test('email verification by link and by 2.x code', async () => {
    const address = email();
    const me = account();
    const user = await me.create(ID.unique(), address, PASSWORD);
    await me.createEmailPasswordSession(address, PASSWORD);
    await me.createEmailVerification({ url: 'http://localhost/verify' });
    const link = linkOf(await mailTo(address));
    await account().updateEmailVerification({ userId: user.$id, secret: link.searchParams.get('secret') });
    assert.equal((await me.get()).emailVerification, true);
    await rejects(me.createEmailVerificationOTP({}), 409, 'user_email_already_verified');
    const other = email();
    await me.updateEmail(other, PASSWORD);
    await me.createEmailVerificationOTP({});
    await account().updateEmailVerificationOTP({ userId: user.$id, secret: codeOf(await mailTo(other)) });
    assert.equal((await me.get()).emailVerification, true);
  });

  test('phone verification by SMS code, and the deprecated phone-session exchange', async () => {
    const address = email();
    const me = account();
    const user = await me.create(ID.unique(), address, PASSWORD);
    await me.createEmailPasswordSession(address, PASSWORD);
    const phone = `+1650557${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    await me.updatePhone(phone, PASSWORD);
    await me.createPhoneVerification();
    const code = (await smsTo(phone)).form.Body;
    await rejects(account().updatePhoneVerification({ userId: user.$id, secret: '000000' === code ? '111111' : '000000' }), 401, 'user_invalid_token');
    await account().updatePhoneVerification({ userId: user.$id, secret: code });
    assert.equal((await me.get()).phoneVerification, true);
    await rejects(me.createPhoneVerification(), 409, 'user_phone_already_verified');

    store.clear();
    const token = await account().createPhoneToken({ userId: ID.unique(), phone: `${phone.slice(0, -1)}${(Number(phone.slice(-1)) + 1) % 10}` });
    const other = await received(smsDir, (m) => m.form.To !== phone && m.form.To.startsWith(phone.slice(0, -1)));
    const session = await account().updatePhoneSession(token.userId, other.form.Body);
    assert.equal(session.provider, 'phone');
  });

  test('a phone code by SMS signs in', async () => {
    const phone = `+1650555${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    const token = await account().createPhoneToken({ userId: ID.unique(), phone });
    const sms = await smsTo(phone);
    const me = account();
    const session = await me.createSession({ userId: token.userId, secret: sms.form.Body });
    assert.equal(session.provider, 'phone');
    assert.equal((await me.get()).phoneVerification, true);
  });
});

describe('node-appwrite 27.1.0', () => {
  const { Client, Account, ID } = require('node-appwrite-27');
  const admin = () => new Account(new Client().setEndpoint(endpoint).setProject(project).setKey(key));

  test('a key sees token secrets: the email code, the recovery secret, the encoded phone code', async () => {
    const address = email();
    const token = await admin().createEmailToken(ID.unique(), address);
    assert.equal(token.secret, codeOf(await mailTo(address)));
    const session = await admin().createSession(token.userId, token.secret);
    assert.ok(session.secret, 'the key gets the session secret');
    const recovery = await admin().createRecovery(address, 'http://localhost/reset');
    assert.equal(recovery.secret, linkOf(await mailTo(address, 2)).searchParams.get('secret'));
    const phone = `+1650556${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    const byPhone = await admin().createPhoneToken(ID.unique(), phone);
    const sent = (await smsTo(phone)).form.Body;
    const decoded = JSON.parse(Buffer.from(byPhone.secret, 'base64').toString());
    assert.deepEqual(decoded, { id: byPhone.userId, secret: sent });
  });
});
