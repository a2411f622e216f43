// `npm run demo`: builds what is missing, then serves the storefront, the proxy and the emulator from one process on
// http://127.0.0.1:8080 (PORT to change; 0 picks a free port). With ZAIUS_API_KEY set it talks to the real API
// (ZAIUS_API_URL for a regional host) instead of the emulator; PROXY_BUDGETS=off lifts the proxy's per-IP and per-vuid
// record budgets for load runs. Ctrl-C stops it.
import { ensureBuild } from './ensure-build.js';

ensureBuild();
const { startDemo } = await import('./app.js');

const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

let demo;
try {
  demo = await startDemo({
    port,
    apiKey: process.env.ZAIUS_API_KEY || undefined,
    apiUrl: process.env.ZAIUS_API_URL || undefined,
    // A fixed secret keeps signed upserts valid across restarts; by default each start makes its own.
    identitySecret: process.env.IDENTITY_SECRET || undefined,
    budgets: process.env.PROXY_BUDGETS != 'off',
  });
} catch (error) {
  console.error(error.code == 'EADDRINUSE' ? `Port ${port} is in use: try PORT=8081 npm run demo` : error);
  process.exit(1);
}

console.log(`
idcapture demo: ${demo.url}/
  upstream: ${demo.upstream}${demo.emulator ? ' (no account needed; set ZAIUS_API_KEY to use the real API)' : ' (ZAIUS_API_KEY is set; the key stays in this process)'}

Three things to try:
  1. Sign in at ${demo.url}/account.html (the demo server signs your identity) and watch the inspector (bottom
     right) show the upsert queued, sent, and then as the profile the ${demo.emulator ? 'emulator' : 'API'} holds for you.
     The newsletter box at the bottom of every page is the anonymous path: it becomes a profile too, but the proxy's
     verify policy keeps it from being tied to your vuid.
  2. In the inspector, go offline (or use DevTools' Network > Offline), register at ${demo.url}/register.html,
     reload, come back online: the upsert was kept and arrives.
  3. Pay at ${demo.url}/checkout.html: the card number never leaves the page; anonymous, only the name and email are
     kept (an address needs a signed-in identity). Inject 500s, 429s or latency from the inspector and watch the retries.

Ctrl-C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return process.exit(1);
  stopping = true;
  await demo.close();
  console.log('idcapture demo stopped.');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
