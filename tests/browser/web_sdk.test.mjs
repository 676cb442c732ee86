// The web SDK (npm appwrite 26.2.0 and 28.0.0) in Chromium, on pages served apart from
// latchkey: on the same site (another port of localhost), where the session rides in the
// cookie; on another site (127.0.0.1), where Chromium sends no cookie and the SDK's
// X-Fallback-Cookies path carries it; and from an origin the project does not list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './chromium.mjs';
import { startPageServer } from './page_server.mjs';

const endpoint = process.env.LATCHKEY_ENDPOINT; // http://localhost:<port>/v1
const project = process.env.LATCHKEY_PROJECT;
const key = process.env.LATCHKEY_KEY;
assert.ok(endpoint && project && key, 'LATCHKEY_ENDPOINT, LATCHKEY_PROJECT and LATCHKEY_KEY are required');
const PASSWORD = 'browser-password-1';

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

async function open(host, sdk) {
  const page = await browser.newPage();
  // Each test starts signed out: no cookie, no fallback left by an earlier page.
  await page.context().clearCookies();
  await page.goto(`http://${host}:${pages.port}/web-${sdk}`);
  await page.evaluate(() => window.localStorage.clear());
  await page.evaluate(([e, p]) => window.app.connect(e, p), [endpoint, project]);
  return page;
}

/** Runs `body` (source of an async function of the account) in the page. */
function run(page, body, arg) {
  return page.evaluate(
    async ([source, a]) => window.app.run((account) => eval(`(${source})`)(account, a)),
    [body.toString(), arg],
  );
}

/** How many users have `email` (the other test file signs users up at the same time). */
async function usersWith(email) {
  const q = encodeURIComponent(JSON.stringify({ method: 'equal', attribute: 'email', values: [email] }));
  const r = await fetch(`${endpoint}/users?queries[]=${q}`, {
    headers: { 'x-appwrite-project': project, 'x-appwrite-key': key },
  });
  return (await r.json()).total;
}

for (const sdk of ['26', '28']) {
  for (const [site, host, cookieOnly] of [
    ['the same site', 'localhost', true],
    ['another site', '127.0.0.1', false],
  ]) {
    test(`web SDK ${sdk} on ${site}: sign up, sign in, get, update, list, reload, logout`, async () => {
      const page = await open(host, sdk);
      const email = `web${sdk}-${host.replace(/\W/g, '')}-${Date.now()}@example.com`;
      const signedIn = await run(page, async (account, [email, password]) => {
        const user = await account.create('unique()', email, password, 'Browser User');
        const session = await account.createEmailPasswordSession(email, password);
        const me = await account.get();
        return { user, session, me };
      }, [email, PASSWORD]);
      assert.ok(signedIn.ok, JSON.stringify(signedIn.error));
      assert.equal(signedIn.ok.me.email, email);
      assert.equal(signedIn.ok.session.current, true);

      const updated = await run(page, async (account) => {
        await account.updateName('Renamed In Chromium');
        return { me: await account.get(), sessions: await account.listSessions() };
      });
      assert.equal(updated.ok.me.name, 'Renamed In Chromium');
      assert.equal(updated.ok.sessions.total, 1);

      // The cookies Chromium kept for the API. The SameSite=None one needs Secure, which plain
      // http cannot give, so on the same site only the (Lax) `_legacy` cookie is stored; from
      // another site's page not even that one is.
      const cookies = (await page.context().cookies(endpoint)).map((c) => c.name);
      assert.ok(!cookies.includes(`a_session_${project}`), JSON.stringify(cookies));
      assert.equal(cookies.includes(`a_session_${project}_legacy`), cookieOnly, JSON.stringify(cookies));

      // Without the SDK's fallback copy, only a same-site page still has a session.
      await page.evaluate(() => window.localStorage.removeItem('cookieFallback'));
      await page.reload();
      await page.evaluate(([e, p]) => window.app.connect(e, p), [endpoint, project]);
      const cookieOnlyGet = await run(page, (account) => account.get());
      if (cookieOnly) {
        assert.equal(cookieOnlyGet.ok?.email, email, JSON.stringify(cookieOnlyGet.error));
      } else {
        assert.equal(cookieOnlyGet.error?.code, 401, 'no cookie crosses sites');
        // Signing in again puts the session in the fallback; it survives a reload.
        const again = await run(page, (account, [e, p]) => account.createEmailPasswordSession(e, p), [email, PASSWORD]);
        assert.ok(again.ok, JSON.stringify(again.error));
        const fallback = await page.evaluate(() => window.localStorage.getItem('cookieFallback'));
        assert.ok(fallback && fallback.includes(`a_session_${project}`), fallback);
        await page.reload();
        await page.evaluate(([e, p]) => window.app.connect(e, p), [endpoint, project]);
        const afterReload = await run(page, (account) => account.get());
        assert.equal(afterReload.ok?.email, email, JSON.stringify(afterReload.error));
      }

      const loggedOut = await run(page, async (account) => {
        await account.deleteSession('current');
        return account.get();
      });
      assert.equal(loggedOut.error?.code, 401);
      assert.equal(loggedOut.error?.type, 'general_unauthorized_scope');
      await page.close();
    });
  }

  test(`web SDK ${sdk} from an origin the project does not list is refused`, async () => {
    // Chromium sends *.localhost to the loopback, so the page server answers it.
    const page = await open('evil.localhost', sdk);
    const email = `evil-${sdk}-${Date.now()}@example.com`;
    const refused = await run(page, (account, e) => account.create('unique()', e, 'browser-password-1'), email);
    assert.ok(refused.error, 'the sign-up must fail');
    assert.equal(await usersWith(email), 0, 'nothing was written');
    await page.close();
  });
}
