// Follow an authorization URL through its redirects like a browser would, without
// fetching the final URL.  follow(url, { stopAt }) -> { url, hops }
//   stopAt: string prefix (e.g. the client's redirect_uri); when a hop's URL starts
//           with it, that URL is returned unfetched (it holds ?code=…&state=…).
//   hops:   [{ url, status, location }] for every request made.
// One cookie jar per call, keyed by host:port (cookie Path/Domain are ignored: enough for
// one provider on loopback).  Throws with the hop chain on any non-3xx before stopAt.

const MAX_HOPS = 20;

export async function follow(url, { stopAt, maxHops = MAX_HOPS } = {}) {
  if (!stopAt) throw new Error('follow: stopAt is required');
  const jar = new Map(); // "host:port" -> Map(name -> value)
  const hops = [];
  const chain = () => hops.map((h) => `  ${h.status} ${h.url}${h.location ? ` -> ${h.location}` : ''}`).join('\n');

  let current = new URL(url).href;
  while (!current.startsWith(stopAt)) {
    if (hops.length >= maxHops) throw new Error(`follow: more than ${maxHops} hops\n${chain()}`);
    const { host } = new URL(current);
    const cookies = jar.get(host) ?? new Map();
    const headers = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');

    let res;
    try {
      res = await fetch(current, { redirect: 'manual', headers });
    } catch (err) {
      throw new Error(`follow: fetch ${current} failed: ${err.message}\n${chain()}`, { cause: err });
    }

    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      if (i < 1) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      // Cookie deletion: Max-Age<=0 or an Expires in the past.
      const expired = attrs.some((a) => {
        const [k, v = ''] = a.split('=').map((s) => s.trim());
        return (/^max-age$/i.test(k) && Number(v) <= 0) || (/^expires$/i.test(k) && Date.parse(v) <= Date.now());
      });
      if (expired) cookies.delete(name); else cookies.set(name, value);
    }
    jar.set(host, cookies);

    const location = res.headers.get('location');
    hops.push({ url: current, status: res.status, location });
    if (res.status < 300 || res.status >= 400 || !location) {
      const body = (await res.text().catch(() => '')).slice(0, 500);
      throw new Error(`follow: HTTP ${res.status} at ${current} before reaching ${stopAt}\n${chain()}\nbody: ${body}`);
    }
    await res.body?.cancel();
    current = new URL(location, current).href; // resolves relative Location headers
  }
  return { url: current, hops };
}
