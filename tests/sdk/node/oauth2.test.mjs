// OAuth2 sign-in through the official SDKs against a running latchkey and the loopback OpenID
// provider (tests/oidc/provider.mjs, oidc-provider 9): node-appwrite 27.1.0 and 16.0.0 drive
// the token flow (`createOAuth2Token` -> success URL with `userId`/`secret` -> `createSession`),
// appwrite (web) 28.0.0 and 26.2.0 build the session- and token-flow URLs a browser would be
// sent to. A cookie-jar "browser" (tests/oidc/drive.mjs) follows the provider's scripted login;
// `login_hint` picks the provider account. /test/requests on the provider shows what latchkey
// sent it: PKCE S256 and a nonce on the authorization request, the verifier on the code
// exchange, a refresh_token grant for `updateSession`.
//
// Env: LATCHKEY_ENDPOINT (…/v1), LATCHKEY_PROJECT, LATCHKEY_KEY, LATCHKEY_OIDC_URL (the
// provider's base URL), LATCHKEY_OIDC_PROVIDER (default `oidc`). The project must have a web
// platform `localhost` and the provider configured as [projects.oauth2.<provider>]; the
// provider must know the accounts of oauth2_accounts.json (as OIDC_ACCOUNTS, keys are the
// `sub`) and the redirect URI <latchkey origin>/v1/account/sessions/oauth2/callback/<provider>/<project>.
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { installLocalStorage } from './local_storage.mjs';
import { follow } from '../../oidc/drive.mjs';

const store = installLocalStorage(); // the web SDKs' session store (X-Fallback-Cookies)
const require = createRequire(import.meta.url);
const endpoint = process.env.LATCHKEY_ENDPOINT;
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
const oidcUrl = process.env.LATCHKEY_OIDC_URL;
const provider = process.env.LATCHKEY_OIDC_PROVIDER || 'oidc';
assert.ok(endpoint && project && key && oidcUrl,
  'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT, LATCHKEY_KEY and LATCHKEY_OIDC_URL are required');

/** The provider accounts (`sub` -> claims) these tests sign in as, one per test; the
 *  provider gets the same file as OIDC_ACCOUNTS. */
const ACCOUNTS = require('./oauth2_accounts.json');

const origin = new URL(endpoint).origin;
const APP = 'http://localhost:3000'; // on the project's web platform `localhost`
const SUCCESS = `${APP}/ok`;
const FAILURE = `${APP}/fail`;
const CALLBACK = `${origin}/v1/account/sessions/oauth2/callback/${provider}/${project}`;
const REDIRECT_ROUTE = `${origin}/v1/account/sessions/oauth2/${provider}/redirect`;
const PASSWORD = 'oauth2-password-123';

// ---------------------------------------------------------------- helpers

/** The provider's record of what it was sent (never cleared: tests pick their own entries). */
async function recorded() {
  const res = await fetch(`${oidcUrl}/test/requests`);
  assert.equal(res.status, 200);
  return res.json();
}

/** The provider's authorization URL with the account to log in as. */
const as = (authorizeUrl, sub) => {
  const u = new URL(authorizeUrl);
  u.searchParams.set('login_hint', sub);
  return u.href;
};

/**
 * Checks the authorization URL latchkey sent the browser to, and returns its params.
 * `scopes`: scopes the app asked for, which must all be in `scope`.
 */
function checkAuthorizeUrl(location, scopes = []) {
  const u = new URL(location);
  assert.equal(`${u.origin}${u.pathname}`, `${oidcUrl}/auth`, 'the discovered authorization_endpoint');
  const p = u.searchParams;
  assert.equal(p.get('client_id'), 'latchkey');
  assert.equal(p.get('redirect_uri'), CALLBACK);
  assert.equal(p.get('response_type'), 'code');
  assert.equal(p.get('code_challenge_method'), 'S256');
  assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/, 'an S256 challenge');
  assert.ok(p.get('nonce'), 'a nonce');
  assert.ok(p.get('state'), 'a state');
  const scope = (p.get('scope') ?? '').split(' ');
  for (const s of ['openid', ...scopes]) assert.ok(scope.includes(s), `scope ${p.get('scope')} has ${s}`);
  return p;
}

/** The code the provider handed to latchkey's callback in a follow() hop chain. */
function codeOf(hops) {
  const hop = hops.find((h) => h.url.startsWith(`${CALLBACK}?`));
  assert.ok(hop, `the browser reached ${CALLBACK}:\n${hops.map((h) => h.url).join('\n')}`);
  const u = new URL(hop.url);
  assert.ok(u.searchParams.get('code'), 'the callback got a code');
  return u.searchParams.get('code');
}

/**
 * What latchkey sent the provider in one sign-in: the authorization request (by its state)
 * and the token request (by the code), with PKCE and nonce checked.
 */
async function checkProviderSaw(authorizeUrl, hops) {
  const state = new URL(authorizeUrl).searchParams.get('state');
  const code = codeOf(hops);
  const all = await recorded();
  const auth = all.find((r) => r.event === 'authorization_request' && r.params.state === state);
  assert.ok(auth, 'the provider recorded the authorization request');
  assert.equal(auth.params.code_challenge_method, 'S256');
  assert.ok(auth.params.code_challenge);
  assert.ok(auth.params.nonce);
  const exchange = all.find((r) => r.event === 'token_request' && r.params.code === code);
  assert.ok(exchange, 'the provider recorded the code exchange');
  assert.equal(exchange.status, 200, `code exchange: ${JSON.stringify(exchange.error)}`);
  assert.equal(exchange.params.grant_type, 'authorization_code');
  assert.equal(exchange.params.redirect_uri, CALLBACK);
  assert.ok(exchange.has_code_verifier, 'PKCE: the code_verifier was sent');
  assert.match(exchange.params.code_verifier, /^[A-Za-z0-9._~-]{43,128}$/);
  assert.ok(exchange.has_client_secret || exchange.authorization_header === 'Basic', 'client authentication');
  return { auth, exchange };
}

/** Follows the provider's login to the app's page (unfetched); returns its URL and the hops. */
async function signInAt(authorizeUrl, sub) {
  const { url, hops } = await follow(as(authorizeUrl, sub), { stopAt: `${APP}/` });
  return { final: new URL(url), hops };
}

/** The `error` a failed sign-in appends to the failure URL, parsed. */
function failureOf(final) {
  assert.equal(`${final.origin}${final.pathname}`, FAILURE, `sent to the failure URL, got ${final.href}`);
  const raw = final.searchParams.get('error');
  assert.ok(raw, `an error param in ${final.href}`);
  const error = JSON.parse(raw);
  assert.equal(typeof error.message, 'string');
  return error;
}

/** `userId` and `secret` from the success URL of a token flow. */
function tokenOf(final) {
  assert.equal(`${final.origin}${final.pathname}`, SUCCESS,
    `sent to the success URL, got ${final.href}${final.searchParams.get('error') ? ` (${final.searchParams.get('error')})` : ''}`);
  const userId = final.searchParams.get('userId');
  const secret = final.searchParams.get('secret');
  assert.ok(userId && secret, `userId and secret in ${final.href}`);
  return { userId, secret };
}

/** Runs a web SDK call that sends the browser away, with a fake `window.location`. */
function navigation(fn) {
  const location = { href: '' };
  window.location = location;
  try {
    assert.equal(fn(), undefined, 'with a window.location the SDK navigates and returns nothing');
  } finally {
    delete window.location;
  }
  assert.ok(location.href, 'the SDK set window.location.href');
  return location.href;
}

/** The URL an SDK built must be this route with the app's params and the project. */
function checkSdkUrl(url, route, scopes) {
  const u = new URL(url);
  assert.equal(`${u.origin}${u.pathname}`, `${endpoint}${route}/${provider}`);
  assert.equal(u.searchParams.get('success'), SUCCESS);
  assert.equal(u.searchParams.get('failure'), FAILURE);
  assert.equal(u.searchParams.get('project'), project);
  assert.deepEqual(scopes.map((_, i) => u.searchParams.get(`scopes[${i}]`)), scopes);
}

/** GET with no redirects followed; the Location must be a 301. */
/** The `a_oauth2_<project>` binder cookie a session-flow start sets, as a Cookie pair: the
 *  browser that started the sign-in carries it back to the redirect route. */
function binderOf(res) {
  const c = res.headers.getSetCookie().find((v) => v.startsWith(`a_oauth2_${project}=`));
  assert.ok(c, 'the start sets the binder cookie');
  return c.split(';')[0];
}

async function moved(url, init = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const body = await res.text();
  assert.equal(res.status, 301, `GET ${url} -> ${res.status} ${body.slice(0, 300)}`);
  return res;
}

// ---------------------------------------------------------------- node-appwrite: token flow

for (const pkg of ['node-appwrite-27', 'node-appwrite-16']) {
  const { Client, Account, ID, AppwriteException } = require(pkg);
  const admin = () => new Account(new Client().setEndpoint(endpoint).setProject(project).setKey(key));
  const asSession = (secret) => new Account(new Client().setEndpoint(endpoint).setProject(project).setSession(secret));
  const sub = `sub-${pkg}`;
  const claims = ACCOUNTS[sub];

  describe(`${pkg} createOAuth2Token`, () => {
    test('sign in, session with the provider tokens, identities, refresh, unlink', async () => {
      const authorizeUrl = await admin().createOAuth2Token(provider, SUCCESS, FAILURE, ['email']);
      assert.equal(typeof authorizeUrl, 'string', 'the SDK returns the Location of the 301');
      checkAuthorizeUrl(authorizeUrl, ['email']);
      const { final, hops } = await signInAt(authorizeUrl, sub);
      const { exchange } = await checkProviderSaw(authorizeUrl, hops);
      const { userId, secret } = tokenOf(final);

      const session = await admin().createSession(userId, secret);
      assert.equal(session.userId, userId);
      assert.equal(session.provider, provider);
      assert.equal(session.providerUid, sub);
      assert.ok(session.providerAccessToken, 'providerAccessToken');
      assert.ok(session.providerRefreshToken, 'providerRefreshToken (the provider always issues one)');
      assert.ok(session.providerAccessTokenExpiry, 'providerAccessTokenExpiry');
      assert.ok(session.secret, 'the key sees the session secret');
      assert.equal(session.current, true, 'as createEmailPasswordSession answers a key');
      assert.equal(exchange.params.client_id, 'latchkey');

      const me = asSession(session.secret);
      const account = await me.get();
      assert.equal(account.$id, userId);
      assert.equal(account.email, claims.email);
      assert.equal(account.name, claims.name);
      assert.equal(account.emailVerification, true, 'the provider said email_verified');

      const current = await me.getSession('current');
      assert.equal(current.$id, session.$id);
      assert.equal(current.provider, provider);
      assert.equal(current.providerAccessToken, session.providerAccessToken, 'the user sees the access token');

      const identities = await me.listIdentities();
      assert.equal(identities.total, 1);
      const [identity] = identities.identities;
      assert.equal(identity.userId, userId);
      assert.equal(identity.provider, provider);
      assert.equal(identity.providerUid, sub);
      assert.equal(identity.providerEmail, claims.email);
      assert.equal(identity.providerAccessToken, session.providerAccessToken);
      assert.ok(identity.providerRefreshToken, 'identity providerRefreshToken');

      // PATCH /account/sessions/current: the provider's refresh_token grant.
      const refreshed = await me.updateSession('current');
      assert.equal(refreshed.$id, session.$id);
      assert.equal(refreshed.provider, provider);
      assert.ok(refreshed.providerAccessToken);
      assert.notEqual(refreshed.providerAccessToken, session.providerAccessToken, 'a new access token');
      const grant = (await recorded()).find((r) => r.event === 'token_request'
        && r.params.grant_type === 'refresh_token' && r.params.refresh_token === session.providerRefreshToken);
      assert.ok(grant, 'the provider got a refresh_token grant with the session\'s refresh token');
      assert.equal(grant.status, 200, `refresh grant: ${JSON.stringify(grant.error)}`);
      assert.equal((await me.getSession('current')).providerAccessToken, refreshed.providerAccessToken);

      await me.deleteIdentity(identity.$id);
      assert.equal((await me.listIdentities()).total, 0);
      await assert.rejects(me.deleteIdentity(identity.$id), (e) => {
        assert.ok(e instanceof AppwriteException);
        assert.equal(e.code, 404);
        assert.equal(e.type, 'user_identity_not_found');
        return true;
      });
    });

    test('the token secret is single-use; the success URL keeps its own query', async () => {
      const authorizeUrl = await admin().createOAuth2Token(provider, `${SUCCESS}?tab=1`, FAILURE);
      const { final } = await signInAt(authorizeUrl, `${sub}-once`);
      const { userId, secret } = tokenOf(final);
      assert.equal(final.searchParams.get('tab'), '1');
      await admin().createSession(userId, secret);
      await assert.rejects(admin().createSession(userId, secret), (e) => {
        assert.ok(e instanceof AppwriteException);
        assert.equal(e.code, 401);
        assert.equal(e.type, 'user_invalid_token');
        return true;
      });
    });

    test('an off-platform success URL and an unconfigured provider are refused at the start', async () => {
      // The SDK sees only the status of a non-redirect ("Invalid redirect").
      await assert.rejects(admin().createOAuth2Token(provider, 'https://evil.example/ok', FAILURE), (e) => {
        assert.ok(e instanceof AppwriteException);
        assert.equal(e.code, 400, `status of ${e.message}`);
        return true;
      });
      await assert.rejects(admin().createOAuth2Token('oidc-not-configured', SUCCESS, FAILURE), (e) => {
        assert.ok(e instanceof AppwriteException);
        assert.equal(e.code, 412, `status of ${e.message}`);
        return true;
      });
    });
  });

  if (pkg !== 'node-appwrite-27') continue;

  describe(`${pkg} account linking rules`, () => {
    test('the same sub signs in to the same user', async () => {
      const first = tokenOf((await signInAt(await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'sub-again')).final);
      const second = tokenOf((await signInAt(await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'sub-again')).final);
      assert.equal(second.userId, first.userId);
      const a = await admin().createSession(first.userId, first.secret);
      const b = await admin().createSession(second.userId, second.secret);
      assert.notEqual(a.$id, b.$id, 'two sessions');
      const me = asSession(b.secret);
      assert.equal((await me.listSessions()).total, 2);
      assert.equal((await me.listIdentities()).total, 1, 'one identity');
    });

    test('a verified provider email does not claim an account that never verified it', async () => {
      // Appwrite links here; whoever registered the address with a password first would
      // keep the account. The e2e tests show the link once the account verified its email.
      const { email } = ACCOUNTS['sub-links-verified'];
      const existing = await admin().create(ID.unique(), email, PASSWORD, 'Had A Password');
      const { final } = await signInAt(await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'sub-links-verified');
      const error = failureOf(final);
      assert.equal(error.type, 'general_bad_request', error.message);
      const session = await admin().createEmailPasswordSession(email, PASSWORD);
      assert.equal(session.userId, existing.$id);
      assert.equal((await asSession(session.secret).listIdentities()).total, 0);
    });

    test('a signed-in browser links the provider identity to its account', async () => {
      // The session flow with the account's session cookie on the last (latchkey) hop.
      const address = `linker-${Math.random().toString(16).slice(2)}@example.com`;
      const user = await admin().create(ID.unique(), address, PASSWORD);
      const { secret } = await admin().createEmailPasswordSession(address, PASSWORD);
      // The same browser starts it (signed in), so the sign-in is its user's to link.
      const signedIn = `a_session_${project}=${secret}`;
      const start = await moved(`${endpoint}/account/sessions/oauth2/${provider}?${new URLSearchParams({
        project, success: SUCCESS, failure: FAILURE })}`, { headers: { cookie: signedIn } });
      const { url } = await follow(as(start.headers.get('location'), 'sub-link-signed-in'), { stopAt: `${REDIRECT_ROUTE}?` });
      const last = await moved(url, { headers: { cookie: `${signedIn}; ${binderOf(start)}` } });
      const to = new URL(last.headers.get('location'));
      assert.equal(`${to.origin}${to.pathname}`, SUCCESS, `sent to ${to.href}`);
      // As in Appwrite, the new session replaces the one the browser came with.
      const cookie = last.headers.getSetCookie().find((c) => c.startsWith(`a_session_${project}=`));
      assert.ok(cookie, 'a new session cookie');
      const fresh = decodeURIComponent(cookie.split(';')[0].slice(`a_session_${project}=`.length));
      assert.notEqual(fresh, secret);
      await assert.rejects(asSession(secret).get(), (e) => e.code === 401);
      const me = asSession(fresh);
      const current = await me.getSession('current');
      assert.equal(current.userId, user.$id);
      assert.equal(current.provider, provider);
      const identities = await me.listIdentities();
      assert.equal(identities.total, 1);
      assert.equal(identities.identities[0].userId, user.$id);
      assert.equal((await me.get()).email, address, 'the account keeps its own email');
    });

    test('an unverified provider email makes an unverified new user', async () => {
      const { userId, secret } = tokenOf((await signInAt(
        await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'sub-fresh-unverified')).final);
      const session = await admin().createSession(userId, secret);
      const account = await asSession(session.secret).get();
      assert.equal(account.email, ACCOUNTS['sub-fresh-unverified'].email);
      assert.equal(account.emailVerification, false);
    });

    test('an unverified provider email of an existing account is refused', async () => {
      const { email } = ACCOUNTS['sub-taken-unverified'];
      const existing = await admin().create(ID.unique(), email, PASSWORD);
      const { final } = await signInAt(await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'sub-taken-unverified');
      const error = failureOf(final);
      assert.equal(error.type, 'general_bad_request', error.message);
      assert.equal(error.code, 400);
      // The password account is untouched and has no identity.
      const session = await admin().createEmailPasswordSession(email, PASSWORD);
      assert.equal(session.userId, existing.$id);
      assert.equal((await asSession(session.secret).listIdentities()).total, 0);
    });

    test('the redirect route refuses a state it did not seal', async () => {
      const res = await fetch(`${REDIRECT_ROUTE}?${new URLSearchParams({ project, code: 'x', state: 'forged' })}`,
        { redirect: 'manual', headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, 'no failure URL to go to: an error page');
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /general_argument_invalid/);
    });

    test('a provider error goes to the failure URL', async () => {
      const { final, hops } = await signInAt(await admin().createOAuth2Token(provider, SUCCESS, FAILURE), 'nobody-knows-me');
      const callback = new URL(hops.find((h) => h.url.startsWith(`${CALLBACK}?`)).url);
      assert.equal(callback.searchParams.get('error'), 'access_denied', 'the provider refused');
      const error = failureOf(final);
      assert.equal(error.type, 'user_oauth2_provider_error', error.message);
      assert.equal(error.code, 424);
    });
  });
}

// ---------------------------------------------------------------- appwrite (web): URLs a browser follows

for (const pkg of ['appwrite-web-28', 'appwrite-web-26']) {
  const { Client, Account } = require(pkg);
  const account = () => new Account(new Client().setEndpoint(endpoint).setProject(project));

  describe(`${pkg} OAuth2`, () => {
    beforeEach(() => store.clear());

    test('createOAuth2Session: the session cookie and X-Fallback-Cookies of the last redirect', async () => {
      const sub = `sub-${pkg}-session`;
      const scopes = ['email', 'profile'];
      const url = navigation(() => account().createOAuth2Session(provider, SUCCESS, FAILURE, scopes));
      checkSdkUrl(url, '/account/sessions/oauth2', scopes);

      const start = await moved(url);
      const authorizeUrl = start.headers.get('location');
      checkAuthorizeUrl(authorizeUrl, scopes);

      // The browser logs in at the provider and comes back through the callback to the
      // redirect route; that last latchkey response signs the user in.
      const { url: redirect, hops } = await follow(as(authorizeUrl, sub), { stopAt: `${REDIRECT_ROUTE}?` });
      const last = await moved(redirect, { headers: { cookie: binderOf(start) } });
      await checkProviderSaw(authorizeUrl, hops);
      const to = new URL(last.headers.get('location'));
      assert.equal(`${to.origin}${to.pathname}`, SUCCESS, `sent to ${to.href}`);
      assert.equal([...to.searchParams].length, 0, `no params for a session: ${to.href}`);
      const cookies = last.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith(`a_session_${project}=`));
      assert.ok(session, `an a_session_${project} cookie in ${JSON.stringify(cookies)}`);
      assert.match(session, /HttpOnly/i);
      const fallback = last.headers.get('x-fallback-cookies');
      assert.ok(fallback, 'X-Fallback-Cookies');
      assert.ok(JSON.parse(fallback)[`a_session_${project}`], 'the fallback holds the session');

      // The cookie a browser keeps works on the API…
      const res = await fetch(`${endpoint}/account`, {
        headers: { 'x-appwrite-project': project, cookie: session.split(';')[0] },
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).email, ACCOUNTS[sub].email);

      // …and so does the fallback, through the SDK's own session store.
      store.set('cookieFallback', fallback);
      const me = account();
      const got = await me.get();
      assert.equal(got.email, ACCOUNTS[sub].email);
      assert.equal(got.name, ACCOUNTS[sub].name);
      assert.equal(got.emailVerification, true);
      const current = await me.getSession('current');
      assert.equal(current.provider, provider);
      assert.equal(current.providerUid, sub);
      assert.ok(current.providerAccessToken);
      const identities = await me.listIdentities();
      assert.equal(identities.total, 1);
      assert.equal(identities.identities[0].provider, provider);
      await me.deleteSession('current');
    });

    test('createOAuth2Token: the app exchanges userId and secret with createSession', async () => {
      const sub = `sub-${pkg}-token`;
      const url = navigation(() => account().createOAuth2Token(provider, SUCCESS, FAILURE));
      checkSdkUrl(url, '/account/tokens/oauth2', []);
      const start = await moved(url);
      const authorizeUrl = start.headers.get('location');
      checkAuthorizeUrl(authorizeUrl);
      const { final, hops } = await signInAt(authorizeUrl, sub);
      await checkProviderSaw(authorizeUrl, hops);
      const { userId, secret } = tokenOf(final);

      const me = account();
      const session = await me.createSession(userId, secret);
      assert.equal(session.provider, provider);
      assert.equal(session.providerUid, sub);
      assert.equal(session.secret, '', 'a client never sees the session secret');
      assert.ok(store.get('cookieFallback')?.includes(`a_session_${project}`), 'the SDK kept the fallback cookie');
      const got = await me.get();
      assert.equal(got.$id, userId);
      assert.equal(got.email, ACCOUNTS[sub].email);
    });

    test('the session flow returns to the success URL exactly as the app gave it', async () => {
      // Appwrite re-assembles the URL with its query only when there is one (URL::unparse).
      for (const success of [`${SUCCESS}?tab=1`, SUCCESS]) {
        const url = navigation(() => account().createOAuth2Session(provider, success, FAILURE));
        const start = await moved(url);
        const { url: redirect } = await follow(as(start.headers.get('location'), `sub-${pkg}-exact`), { stopAt: `${REDIRECT_ROUTE}?` });
        const last = await moved(redirect, { headers: { cookie: binderOf(start) } });
        assert.equal(last.headers.get('location'), success);
      }
    });

    test('without a window.location the SDK returns the URL', () => {
      const url = account().createOAuth2Session(provider, SUCCESS, FAILURE);
      assert.equal(typeof url, 'string');
      checkSdkUrl(url, '/account/sessions/oauth2', []);
    });
  });
}
