// A recording stand-in for the profiles API on 127.0.0.1: keeps every request it receives and answers as told.
import http from 'node:http';

/** Starts the stand-in; `reply(req, res, n)` answers the n-th request (default 202 Accepted). */
export async function startUpstream() {
  const requests = [];
  let reply = (req, res) => res.writeHead(202, { 'content-type': 'application/json' }).end('{"title":"Accepted","status":202}');
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      reply(req, res, requests.length);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v3`,
    requests,
    /** Replaces the answer; `undefined` restores the default 202. */
    setReply(fn) {
      reply = fn ?? ((req, res) => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'));
    },
    reset() {
      requests.length = 0;
      this.setReply();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
