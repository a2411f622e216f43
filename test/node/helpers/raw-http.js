// A client that writes raw bytes to a server and reads everything back until the server closes the connection:
// the one way to send a request that never finishes, which fetch cannot do on purpose.
import net from 'node:net';

/**
 * Connects to `url`'s host and port, writes `bytes` (and nothing more, leaving the socket open for writing), and
 * resolves `{ status, headers, body, raw }` once the server closes the connection.
 */
export function sendRaw(url, bytes) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
    socket.write(bytes);
  });
}

function parse(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => line.split(/:\s*/, 2)).map(([k, v]) => [k.toLowerCase(), v]));
  let body = rest.join('\r\n\r\n');
  if (headers['transfer-encoding'] == 'chunked') body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]) || undefined, headers, body, raw };
}

function unchunk(text) {
  let out = '';
  for (let at = 0; ; ) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!size) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
