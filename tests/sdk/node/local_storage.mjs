// A minimal `window.localStorage` for the web SDK under Node: with it the SDK keeps its session
// in `cookieFallback` and sends `X-Fallback-Cookies`, the path browsers without third-party
// cookies use. Install it before requiring the SDK; the returned map is the storage.
export function installLocalStorage() {
  const store = new Map();
  globalThis.window = {
    console,
    localStorage: {
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, v) => store.set(k, String(v)),
      removeItem: (k) => store.delete(k),
    },
  };
  return store;
}
