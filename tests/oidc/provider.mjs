// Loopback OpenID Connect provider (oidc-provider 9.13.3) for latchkey OAuth2 tests.
//
// Login and consent are scripted: GET /interaction/:uid finishes the interaction at
// once, so a client that follows redirects with a cookie jar gets from the
// authorization URL to redirect_uri?code=…&state=…&iss=… with no HTML at all.
//
// Env:
//   OIDC_PORT           port on 127.0.0.1 (default 0 = pick a free port)
//   OIDC_CLIENT_ID      default "latchkey"
//   OIDC_CLIENT_SECRET  default "latchkey-secret"
//   OIDC_REDIRECT_URIS  comma-separated list
//                       (default http://127.0.0.1:8080/v1/account/sessions/oauth2/callback/oidc/test)
//   OIDC_ACCOUNTS       JSON {"alice":{"email":…,"email_verified":true,"name":…}, …}
//                       keys are the `sub` values; the first key is the default user;
//                       a login_hint `new-<id>` is a verified account `<id>@oidc.test`
//   OIDC_PKCE_REQUIRED  "1" (default) = PKCE S256 mandatory; "0" = optional
//
// Stdout: JSON lines ({"event":"authorization_request"|"token_request",…}), then one
// line "READY <port>" once listening.  Extra routes: GET /test/requests (everything
// recorded so far), DELETE /test/requests (clear it).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = process.env;
const CLIENT_ID = env.OIDC_CLIENT_ID || 'latchkey';
const CLIENT_SECRET = env.OIDC_CLIENT_SECRET || 'latchkey-secret';
const REDIRECT_URIS = (env.OIDC_REDIRECT_URIS
  || 'http://127.0.0.1:8080/v1/account/sessions/oauth2/callback/oidc/test')
  .split(',').map((s) => s.trim()).filter(Boolean);
const ACCOUNTS = JSON.parse(env.OIDC_ACCOUNTS
  || '{"alice":{"email":"alice@example.com","email_verified":true,"name":"Alice"}}');
const DEFAULT_ACCOUNT = Object.keys(ACCOUNTS)[0];
// A `login_hint` of `new-<id>` is a verified account made on the spot, `<id>@oidc.test`: the
// API fuzzer signs in a new provider user on every call.
const account = (sub) => ACCOUNTS[sub]
  ?? (/^new-[a-z0-9]{1,40}$/.test(sub)
    ? { email: `${sub}@oidc.test`, email_verified: true, name: `Fuzz ${sub}` }
    : undefined);
const PKCE_REQUIRED = env.OIDC_PKCE_REQUIRED !== '0';

// The issuer must contain the real port, so bind first and build the provider after.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

// A fresh signing key per run (otherwise oidc-provider uses its built-in dev key and warns).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    // A "web" client may register http:// (incl. 127.0.0.1) redirect URIs as long as it
    // doesn't use the implicit grant.  Do NOT make it "native": native clients always
    // get the consent prompt and loopback-port matching rules.
    application_type: 'web',
    // A client registered with client_secret_post also accepts client_secret_basic
    // (oidc-provider treats them as one family); sending both at once is rejected.
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Put the scope-requested claims (email, name, …) in the ID token too, not only in
  // userinfo, so either source can be tested.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false }, // we answer /interaction/:uid ourselves (below)
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => PKCE_REQUIRED }, // only S256 is ever accepted in v9
  // oidc-provider silently drops offline_access from the scope unless the request also
  // has prompt=consent; the default issueRefreshToken then issues no refresh token.
  // Issue one to this client whenever it may use the refresh_token grant.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  clientBasedCORS: () => true, // silences the "you should change this" warning
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
  },
  async findAccount(ctx, sub) {
    const claims = account(sub);
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
});

// ---------------------------------------------------------------- recording
const recorded = [];
const log = (event) => {
  recorded.push(event);
  // stdout: don't print secrets, just whether they were there.
  const params = { ...event.params };
  if ('client_secret' in params) params.client_secret = '***';
  if ('code_verifier' in params) params.code_verifier = `<present, ${params.code_verifier.length} chars>`;
  process.stdout.write(`${JSON.stringify({ ...event, params })}\n`);
};

provider.use(async (ctx, next) => {
  // Test-only introspection of what clients sent.
  if (ctx.path === '/test/requests') {
    if (ctx.method === 'DELETE') recorded.length = 0;
    ctx.body = recorded;
    return;
  }

  // Scripted interaction: no HTML, finish login/consent immediately and 303 back.
  const m = ctx.method === 'GET' && ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (m) {
    const { prompt, params, session, grantId } = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (prompt.name === 'login') {
      const accountId = params.login_hint ?? DEFAULT_ACCOUNT;
      result = account(accountId)
        ? { login: { accountId } }
        : { error: 'access_denied', error_description: `unknown login_hint ${accountId}` };
    } else if (prompt.name === 'consent') {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      // Grant everything asked for, offline_access included.
      grant.addOIDCScope(params.scope ?? 'openid');
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = { error: 'access_denied', error_description: `unsupported prompt ${prompt.name}` };
    }
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }

  const isAuth = ctx.path === '/auth'; // not /auth/:uid (the resume step)
  const isToken = ctx.path === '/token';
  const started = { time: new Date().toISOString(), method: ctx.method, path: ctx.path };
  await next();

  if (isAuth) {
    // Raw params as sent (ctx.oidc.params is post-processing: offline_access may be gone).
    const params = { ...(ctx.method === 'POST' ? ctx.oidc?.body : ctx.query) };
    log({ event: 'authorization_request', ...started, params, status: ctx.status });
  } else if (isToken) {
    const auth = ctx.get('authorization');
    const params = { ...(ctx.oidc?.body ?? {}) };
    if ('client_secret' in params) params.client_secret = '***';
    const error = ctx.status >= 400 ? ctx.body : undefined;
    log({
      event: 'token_request',
      ...started,
      content_type: ctx.get('content-type'),
      authorization_header: auth ? auth.split(' ')[0] : null, // "Basic" / null; never the value
      has_client_secret: 'client_secret' in params,
      has_code_verifier: 'code_verifier' in params,
      params, // code_verifier in full (stdout masks it)
      status: ctx.status,
      ...(error && { error }),
    });
  }
});

server.on('request', provider.callback());
process.stdout.write(`READY ${port}\n`);

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
