// The chaos runner: the demo storefront (`node demo/server.js`, its own process, so it can be restarted) in front of an
// emulator in this process, 3 tabs of Debian's Chromium in one context identifying a known list of people through the
// storefront's forms and identify() calls, several updates each, while seeded chaos runs: offline/online toggles,
// emulator faults (500/503, 429 bursts with Retry-After, latency, dropped connections), tabs closed in the middle of a
// flush and reopened, reloads, and one restart of the proxy process. Then everything goes online, the queues drain, and
// the emulator's profiles are compared with the last value written for each person's attribute, in the order the
// browser wrote them. Every byte the browser received is searched for the API key.
//
// `npm run test:chaos` runs the long configuration (SEED=<n> to replay one, PEOPLE, UPDATES to size it); the short one
// runs inside `npm test` (test/e2e/chaos.test.js). Loopback only, bounded in time.
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../dist/emulator.js';
import { launchBrowser } from '../helpers/browser.js';
import { startDemo } from '../helpers/demo.js';
import { signIdentity } from '../../dist/server.js';

/** A key no other part of the project uses, so a hit in the browser's bytes can only be a leak. */
export const CHAOS_KEY = 'chaos-7f3e9b2c41d0a6e5.never-in-a-browser';

/** mulberry32: a seeded sequence, so a failing seed replays the same scenario. */
function seeded(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)], chance: (p) => next() < p };
}

/** The faults the runner chooses from; `seed` is added so the emulator's own sequence replays too. */
const FAULTS = [
  { name: '5xx burst', faults: { errorRate: 0.6 } },
  { name: '429 bursts with Retry-After', faults: { burstRate: 0.4, burstLength: 3 } },
  { name: 'latency', faults: { latencyMs: [100, 600] } },
  { name: 'dropped connections', faults: { dropRate: 0.4 } },
  { name: 'mixed', faults: { errorRate: 0.2, dropRate: 0.2, latencyMs: [0, 200] } },
  { name: 'healthy', faults: {} },
];

const PAGES = ['/', '/register.html', '/checkout.html', '/spa.html'];

/**
 * Runs one scenario and resolves `{ ok, line, upserts, lost, resent, requests, drainedS, seed, firstLost, keyHits,
 * events }`. Never throws for a lost upsert: `ok` is false and `line` names the seed and the first one lost.
 * @param {object} [options]
 * @param {number} [options.seed] default 42
 * @param {number} [options.people] people identified, default 30
 * @param {number} [options.updates] upserts per person, default 8
 * @param {number} [options.drainMs] longest wait for the queues to drain at the end, default 90000
 * @param {(line: string) => void} [options.log] progress lines, default none
 */
export async function runChaos({ seed = 42, people = 30, updates = 8, drainMs = 90_000, log = () => {} } = {}) {
  const random = seeded(seed);
  const upstream = await startEmulator({ apiKeys: [CHAOS_KEY] });
  const emulator = upstream.emulator;
  // The demo's proxy runs with verify: the people sign in (a token per person, signed as the site's back end would),
  // so every attribute may be written. One secret for both starts, so tokens stay valid across the restart.
  const secret = `chaos-identity-secret-${seed}-0123456789abcdef`;
  // One browser plays every person, on one vuid and one address: the per-vuid and per-IP record budgets, sized for
  // one real visitor, are lifted; what is under test is delivery, not the budgets (test/node covers those).
  const env = { ZAIUS_API_KEY: CHAOS_KEY, ZAIUS_API_URL: upstream.url, IDENTITY_SECRET: secret, PROXY_BUDGETS: 'off' };
  let demo = await startDemo(env);
  const port = new URL(demo.url).port;
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const received = [];
  let requests = 0;
  let postedRecords = 0;
  /** Every record the browser posted, with when: a loss can then be told from a late resend of an older value. */
  const posted = [];
  const events = [];
  const note = (what) => (events.push(what), log(`  ${what}`));
  context.on('request', (request) => {
    if (request.method() != 'POST' || !request.url().endsWith('/api/profiles')) return;
    requests++;
    try {
      const body = JSON.parse(request.postData() ?? '[]');
      postedRecords += Array.isArray(body) ? body.length : 1;
      const at = Date.now();
      for (const { attributes } of [body].flat()) posted.push({ at, request: requests, attributes });
    } catch {
      // Counted as a request; its records are not known.
    }
  });
  // Every byte the browser received: status line text, headers and body of each response.
  context.on('response', (response) =>
    received.push(
      (async () => {
        const headers = Object.entries(await response.allHeaders().catch(() => ({}))).flat().join('\n');
        // A response of a closed tab may never deliver its body: searched as far as it arrived, at most 2 s later.
        const body = await Promise.race([response.body(), new Promise((resolve) => setTimeout(resolve, 2000, null))]).catch(() => null);
        return { url: response.url(), bytes: Buffer.concat([Buffer.from(`${response.statusText()}\n${headers}\n`), body ?? Buffer.alloc(0)]) };
      })(),
    ),
  );
  // Upserts the client itself gave up on ('drop' events), from every tab, so a loss can be told from a stuck queue.
  const drops = [];
  await context.exposeBinding('chaosDrop', (_, drop) => drops.push(drop));
  await context.addInitScript(() => {
    const hook = () => {
      if (!window.idcapture || Array.isArray(window.idcapture)) return setTimeout(hook, 20);
      window.idcapture.on('drop', ({ upsert, reason }) => window.chaosDrop({ email: upsert?.attributes?.email, reason }));
    };
    hook();
  });
  context.on('page', (page) => page.on('dialog', (dialog) => dialog.dismiss().catch(() => {})));

  const state = { online: true, up: true };
  const url = (path) => `${demo.url}${path}`;
  const ready = (page) => page.waitForFunction(() => window.idcapture && !Array.isArray(window.idcapture), null, { timeout: 10_000 });
  async function open(path = random.pick(PAGES)) {
    const page = await context.newPage();
    await page.goto(url(path));
    await ready(page);
    return page;
  }
  /** Tabs; a null slot is a tab closed while it could not be reopened (offline or the server down). */
  const tabs = [];
  for (let i = 0; i < 3; i++) tabs.push(await open());
  const reopen = async () => {
    if (!state.online || !state.up) return;
    for (let i = 0; i < tabs.length; i++) if (!tabs[i]) tabs[i] = await open();
  };
  const someTab = () => random.pick(tabs.map((page, i) => (page ? i : -1)).filter((i) => i >= 0));

  // The people and the plan: rounds of updates, each round in a new seeded order, so consecutive upserts are of
  // different people (a form post's write, made as its page unloads, is never raced by the next write of its person).
  const emails = Array.from({ length: people }, (_, i) => `chaos-${seed}-${i}@test.com`);
  const plan = [];
  for (let round = 0; round < updates; round++) {
    const order = [...emails];
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    plan.push(...order);
  }
  /** email → attribute → `{ value, op }`: the last value written, and by which upsert. */
  const expected = new Map(emails.map((email) => [email, new Map()]));
  const ops = [];
  const restartAt = Math.floor(plan.length / 2);

  async function chaos() {
    const kind = random.pick(['offline', 'faults', 'faults', 'close-mid-flush', 'reload']);
    if (kind == 'offline') {
      state.online = !state.online;
      await context.setOffline(!state.online);
      note(state.online ? 'online' : 'offline');
      if (state.online) await reopen();
    } else if (kind == 'faults') {
      const choice = random.pick(FAULTS);
      emulator.setFaults({ ...choice.faults, ...(Object.keys(choice.faults).length ? { seed: random.int(1e6) } : {}) });
      note(`faults: ${choice.name}`);
    } else if (kind == 'close-mid-flush') {
      const i = someTab();
      if (i === undefined) return;
      // A write, then close as soon as a flush is on the wire (or after a short wait if none starts: offline, backoff).
      const flushing = context.waitForEvent('request', { predicate: (r) => r.url().endsWith('/api/profiles'), timeout: 1500 }).catch(() => null);
      const inFlight = await flushing;
      const victim = inFlight?.frame().page() ?? tabs[i];
      const at = tabs.indexOf(victim);
      await victim.close({ runBeforeUnload: false });
      tabs[at >= 0 ? at : i] = null;
      note(`closed a tab ${inFlight ? 'mid-flush' : '(no flush in flight)'}`);
      await reopen();
    } else if (kind == 'reload' && state.online && state.up) {
      const i = someTab();
      if (i === undefined) return;
      await tabs[i].reload();
      await ready(tabs[i]);
      note('reloaded a tab');
    }
  }

  async function restartProxy() {
    note('proxy process stopped');
    await demo.stop();
    state.up = false;
    // Writes go on in the open tabs while the server is down; their flushes meet a refused connection.
    for (let k = 0; k < 3; k++) await identifyOp(plan[ops.length] ?? emails[0], true);
    for (let attempt = 0; ; attempt++) {
      try {
        demo = await startDemo({ ...env, PORT: port });
        break;
      } catch (error) {
        if (attempt == 5) throw error;
      }
    }
    state.up = true;
    note('proxy process restarted');
    await reopen();
  }

  /** The token the site's back end would give `email` signed in on this browser (one vuid for all its tabs). */
  const tokens = new Map();
  const vuid = await tabs[0].evaluate(() => window.idcapture.vuid);
  const tokenOf = async (email) => {
    if (!tokens.has(email)) tokens.set(email, await signIdentity({ email, vuid, expiresIn: 3600 }, { secret }));
    return tokens.get(email);
  };

  function record(email, attributes, how) {
    const op = { n: ops.length + 1, email, attributes, how };
    ops.push(op);
    for (const [name, value] of Object.entries(attributes)) expected.get(email).set(name, { value, op });
  }

  async function identifyOp(email, extra = false) {
    const i = someTab();
    if (i === undefined) return;
    const n = ops.length + 1;
    const attributes = random.pick([
      { first_name: `F${n}`, city: `C${n}` },
      { last_name: `L${n}` },
      { zip: String(10000 + n), city: `C${n}` },
      { first_name: `F${n}`, last_name: `L${n}`, zip: String(10000 + n) },
    ]);
    const token = await tokenOf(email);
    await tabs[i].evaluate(([email, attributes, token]) => window.idcapture.identify({ email }, attributes, { token }), [email, attributes, token]);
    record(email, attributes, `identify() in tab ${i}${extra ? ' while the proxy was down' : ''}`);
  }

  async function formOp(email) {
    const i = someTab();
    const page = tabs[i];
    const n = ops.length + 1;
    const form = random.pick(['checkout', 'register']);
    await page.goto(url(`/${form}.html`));
    await ready(page);
    // Signed in as this person: the form's capture is verified.
    const token = await tokenOf(email);
    await page.evaluate((token) => window.idcapture.setIdentityToken(token), token);
    let attributes;
    if (form == 'checkout') {
      attributes = { first_name: `F${n}`, last_name: `L${n}`, city: `C${n}`, zip: String(10000 + n) };
      await page.fill('#c-email', email);
      await page.fill('#c-first', attributes.first_name);
      await page.fill('#c-last', attributes.last_name);
      await page.fill('#c-city', attributes.city);
      await page.fill('#c-zip', attributes.zip);
    } else {
      attributes = { first_name: `F${n}`, last_name: `L${n}` };
      await page.fill('#first', attributes.first_name);
      await page.fill('#last', attributes.last_name);
      await page.fill('#email', email);
      await page.fill('#password', 'correct horse battery');
    }
    await Promise.all([page.waitForURL(/[?&](ordered|welcome)=1/), page.click(`#${form} [type=submit]`)]);
    await ready(page);
    record(email, attributes, `${form} form in tab ${i}`);
  }

  const started = Date.now();
  let drainedS, result;
  try {
    for (let k = 0; k < plan.length; k++) {
      if (k == restartAt) await restartProxy();
      if (random.chance(0.12)) await chaos();
      if (!tabs.some(Boolean)) {
        // Every tab closed while offline or down: come back online to reopen one.
        if (!state.online) await context.setOffline(!(state.online = true));
        await reopen();
      }
      if (state.online && state.up && random.chance(0.15)) await formOp(plan[k]);
      else await identifyOp(plan[k]);
    }
    log(`  ${ops.length} upserts written in ${((Date.now() - started) / 1000).toFixed(1)} s; draining`);
    // The end: healthy API, online, a tab open.
    emulator.setFaults({});
    const drainStart = Date.now();
    if (!state.online) await context.setOffline(!(state.online = true));
    await reopen();
    const lost = () => {
      const byEmail = new Map();
      for (const profile of emulator.profiles()) {
        const attributes = profile.attributes ?? profile;
        for (const email of attributes.emails ?? [attributes.email]) byEmail.set(email, attributes);
      }
      const missing = [];
      for (const [email, attributes] of expected) {
        const have = byEmail.get(email);
        for (const [name, { value, op }] of attributes) if (have?.[name] !== value) missing.push({ email, name, value, found: have?.[name], op });
      }
      return missing.sort((a, b) => a.op.n - b.op.n);
    };
    let missing = lost();
    while (missing.length && Date.now() - drainStart < drainMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      missing = lost();
    }
    drainedS = (Date.now() - drainStart) / 1000;
    // What the browser still holds, when something is missing: a stuck queue is not a lost upsert, but neither passes.
    const queued = missing.length ? await tabs.find(Boolean)?.evaluate(() => new Promise((resolve) => {
      const open = indexedDB.open('idcapture:/api/profiles');
      open.onsuccess = () => {
        const all = open.result.transaction('queue').objectStore('queue').getAll(IDBKeyRange.upperBound(Infinity));
        all.onsuccess = () => resolve(all.result.map((r) => r.upsert?.attributes?.email));
      };
      open.onerror = () => resolve(null);
    })).catch(() => null) : [];
    const texts = await Promise.all(received);
    const keyHits = texts.filter(({ bytes }) => bytes.includes(CHAOS_KEY)).map(({ url }) => url);
    const resent = Math.max(0, postedRecords - ops.length);
    const first = missing[0];
    /** When the lost value and the value found instead were posted, in seconds from the start. */
    const history = ({ email, name, value, found }) => {
      const times = (v) => posted.filter((p) => p.attributes.email == email && p.attributes[name] === v).map((p) => ((p.at - started) / 1000).toFixed(1));
      const mine = posted.filter((p) => p.attributes.email == email && name in p.attributes);
      const byRequest = [...new Set(mine.map((p) => p.request))].map((r) => `#${r}: ${mine.filter((p) => p.request == r).map((p) => p.attributes[name]).join(',')}`);
      return `${name}=${JSON.stringify(value)} was posted at [${times(value)}] s; ${name}=${JSON.stringify(found)} at [${times(found)}] s; in request order: ${byRequest.join('; ')}`;
    };
    const lostOps = new Set(missing.map((m) => m.op.n)).size;
    const line = `chaos: ${ops.length} upserts, ${lostOps} lost, ${resent} resent, ${requests} requests, drained in ${drainedS.toFixed(1)} s (seed ${seed})`;
    result = {
      ok: !missing.length && !keyHits.length,
      line:
        line +
        (first
          ? `\n${queued?.length ?? '?'} upserts still queued in the browser${queued?.length ? ` (first for ${queued[0]})` : ''}; ${drops.length} dropped by the client${drops.length ? ` (first ${JSON.stringify(drops[0])})` : ''}` +
            `\n${history(first)}` +
            `\nfirst lost upsert: #${first.op.n} ${first.op.how}: ${first.email} ${JSON.stringify(first.op.attributes)}; the emulator has ${first.name}=${JSON.stringify(first.found)} (replay: SEED=${seed})`
          : '') +
        (keyHits.length ? `\nthe API key was in ${keyHits.length} responses, first ${keyHits[0]} (seed ${seed})` : ''),
      upserts: ops.length,
      lost: lostOps,
      resent,
      requests,
      drainedS,
      seed,
      firstLost: first,
      keyHits,
      responses: texts.length,
      bytesReceived: texts.reduce((sum, { bytes }) => sum + bytes.length, 0),
      events,
      drops,
      emulatorStats: emulator.stats(),
    };
  } finally {
    await browser.close().catch(() => {});
    await demo.stop().catch(() => {});
    await upstream.close();
  }
  return result;
}

if (process.argv[1] == fileURLToPath(import.meta.url)) {
  const number = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
  const seed = number('SEED', Math.floor(Math.random() * 1e6));
  const result = await runChaos({ seed, people: number('PEOPLE', 150), updates: number('UPDATES', 8), drainMs: 120_000, log: console.log });
  console.log(`${result.drops.length} upserts dropped by the client; ${result.responses} responses (${result.bytesReceived} bytes) searched for the API key: ${result.keyHits.length} hits`);
  console.log(result.line);
  process.exitCode = result.ok ? 0 : 1;
}
