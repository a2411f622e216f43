// node:http servers on 127.0.0.1 for one test file, each closed (its connections too) when the file's tests end.
import http from 'node:http';
import { after } from 'node:test';

/** Registers the cleanup; returns `serve(listener)`, which resolves the server's base URL, and `servers`, as started. */
export function useLoopback() {
  const servers = [];
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  const serve = async (listener) => {
    const server = http.createServer(listener);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return `http://127.0.0.1:${server.address().port}`;
  };
  return { serve, servers };
}
