// Serves the repository over http on 127.0.0.1 for Playwright-driven pages; `routes` adds handlers (e.g. the proxy)
// that are tried before the files.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json' };

/** Starts the server; resolves `{ url, close() }`. `routes` maps a path to a node request listener. */
export async function startStaticServer(routes = {}) {
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (routes[pathname]) return routes[pathname](req, res);
    const file = normalize(join(root, pathname === '/' ? '/index.html' : pathname));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
