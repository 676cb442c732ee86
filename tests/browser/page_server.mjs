// Serves the test pages and the web SDK's browser build on 127.0.0.1, apart from latchkey
// (another port is another origin). Only the files listed here are served.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const FILES = {
  '/': ['pages/app.html', 'text/html; charset=utf-8'],
  '/appwrite-26.js': ['node_modules/appwrite-web-26/dist/iife/sdk.js', 'text/javascript'],
  '/appwrite-28.js': ['node_modules/appwrite-web-28/dist/iife/sdk.js', 'text/javascript'],
};
/** `/web-26`, `/web-28`: the SDK page with that version's build. */
const SDK_PAGES = { '/web-26': 'appwrite-26', '/web-28': 'appwrite-28' };

/** Starts the server on a free port; resolves to its port and a close function. */
export function startPageServer() {
  const server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (SDK_PAGES[pathname]) {
      const page = await readFile(path.join(here, 'pages/sdk.html'), 'utf8');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page.replace('{{SDK}}', SDK_PAGES[pathname]));
      return;
    }
    const file = FILES[pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[1] });
    res.end(await readFile(path.join(here, file[0])));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: server.address().port, close: () => server.close() }));
  });
}
