// Issue 26: signed link identity. A link token from an email (`?idc=<token>`) is taken out of the address bar as the
// client starts, the page's other parameters and hash kept, and one upsert links the vuid to the token's email
// through the real proxy with `verify` ('/api/verified'); an expired token sends nothing, a tampered or foreign one
// is refused by the proxy (the client cannot check a signature), and a signed-in visitor keeps their identity.
import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { holdQueue, storedRecords } from './helpers.js';

const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();
const profiles = () => json('/__emulator/profiles');
const forwarded = () => json('/__backend/forwarded');
const sign = async (identity) => (await json(`/__backend/sign?${new URLSearchParams(identity)}`)).token;
const api = (await json('/__backend/api')).url;
const unique = (name) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@shop.test`;
const home = location.pathname;

let clients = [];
/** Lands on this page with `query` and starts a client (its queue held until `release`), as a click from an email. */
async function land(query, options = {}, started = () => {}) {
  history.replaceState(null, '', `${home}?${query}#reviews`);
  const endpoint = `${api}/api/verified?run=${Math.random().toString(36).slice(2)}`;
  const release = await holdQueue(endpoint);
  const idc = createIdCapture({ endpoint, autocapture: false, debug: true, ...options });
  const after = location.href;
  started(idc);
  clients.push(idc);
  const queued = new Promise((resolve) => idc.on('queued', ({ upsert }) => resolve(upsert)));
  const drops = [];
  idc.on('drop', (detail) => drops.push(detail));
  return { idc, endpoint, release, after, queued, drops };
}

/** Lands with `query` and resolves with the `link ignored` line the client logs. */
async function landIgnored(query, options, started) {
  let landed;
  let resolveLine;
  const line = new Promise((resolve) => (resolveLine = resolve));
  const original = console.log;
  console.log = (...args) => (String(args[1]).startsWith('link ignored') ? resolveLine(args[1]) : original(...args));
  try {
    landed = await land(query, options, started);
    return { ...landed, line: await line };
  } finally {
    console.log = original;
  }
}

describe('links from emails', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => {
    clients.forEach((c) => c.destroy());
    clients = [];
    history.replaceState(null, '', home);
    // The consent a test granted is remembered for the origin: the next test file starts from nothing.
    localStorage.clear();
  });

  it('a valid link token leaves the address bar at once and links the vuid to its email, nothing else', async () => {
    const email = unique('link');
    const token = await sign({ email, link: '1' });
    const { idc, release, after, queued } = await land(`utm_source=mail&idc=${token}&page=2`);
    equal(after, `${location.origin}${home}?utm_source=mail&page=2#reviews`, 'cleaned synchronously, as createIdCapture returned');
    deepEqual((await queued).attributes, { vuid: idc.vuid, email });
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    deepEqual(await forwarded(), [[{ attributes: { vuid: idc.vuid, email } }]]);
    equal((await profiles()).find((p) => p.email == email).vuid, idc.vuid);
  });

  it('an expired link token is removed from the address bar and sends nothing', async () => {
    const token = await sign({ email: unique('expired'), link: '1', expiresIn: 60, issuedAgo: 61 });
    const { after, endpoint, line } = await landIgnored(`idc=${token}`);
    equal(after, `${location.origin}${home}#reviews`);
    equal(line, 'link ignored: expired');
    deepEqual(await storedRecords(endpoint), []);
  });

  it('an identity token in a link is not a link: removed, nothing sent', async () => {
    const token = await sign({ email: unique('identity') });
    const { after, endpoint, line } = await landIgnored(`a=1&idc=${token}`);
    equal(after, `${location.origin}${home}?a=1#reviews`);
    equal(line, 'link ignored: not a link token');
    deepEqual(await storedRecords(endpoint), []);
  });

  for (const kind of ['tampered', 'foreign-secret']) {
    it(`a ${kind} link token is removed from the address bar and refused by the proxy: nothing reaches the API`, async () => {
      const email = unique(kind);
      const victim = unique('victim');
      let token = await sign({ email, link: '1', ...(kind == 'foreign-secret' && { foreign: '1' }) });
      if (kind == 'tampered') {
        const [header, payload, mac] = token.split('.');
        const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
        token = [header, btoa(JSON.stringify({ ...claims, email: victim })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'), mac].join('.');
      }
      const { idc, release, after, queued, drops } = await land(`idc=${token}`);
      equal(after, `${location.origin}${home}#reviews`);
      await queued;
      release();
      deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 1 });
      equal(drops.length, 1);
      deepEqual(await forwarded(), []);
      deepEqual(await profiles(), []);
    });
  }

  it('a signed-in page ignores a link for another email, and keeps its identity', async () => {
    const link = await sign({ email: unique('forwarded'), link: '1' });
    const own = await sign({ email: unique('signed-in') });
    // As a page does: its start-up code sets the signed-in visitor's token right after creating the client.
    const { after, endpoint, line } = await landIgnored(`idc=${link}`, {}, (idc) => idc.setIdentityToken(own));
    equal(after, `${location.origin}${home}#reviews`);
    equal(line, "link ignored: the page's visitor is signed in as someone else");
    deepEqual(await storedRecords(endpoint), []);
  });

  it('consent pending holds the link like any capture, and granting sends it', async () => {
    const email = unique('pending');
    const token = await sign({ email, link: '1' });
    const { idc, release, after } = await land(`idc=${token}`, { consent: 'pending' });
    equal(after, `${location.origin}${home}#reviews`);
    release();
    let flushed;
    while (!(flushed = await idc.flush()).pending) await new Promise((resolve) => setTimeout(resolve));
    deepEqual(flushed, { sent: 0, pending: 1, dropped: 0 });
    const queued = new Promise((resolve) => idc.on('queued', resolve));
    idc.setConsent('granted');
    await queued;
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    deepEqual(await forwarded(), [[{ attributes: { vuid: idc.vuid, email } }]]);
  });

  it('linkParameter: false leaves the address and the visitor alone', async () => {
    const token = await sign({ email: unique('off'), link: '1' });
    const { after, endpoint } = await land(`idc=${token}`, { linkParameter: false });
    equal(after, `${location.origin}${home}?idc=${token}#reviews`);
    deepEqual(await storedRecords(endpoint), []);
  });
});

/** Whether this page has requested dist/link.js since its resource timings were last cleared. */
const linkLoaded = () => performance.getEntriesByType('resource').some((entry) => entry.name.includes('/dist/link.js'));

/** Loads the production tag as a storefront does, with data-* attributes. */
function loadTag(attributes) {
  const script = document.createElement('script');
  script.src = '/dist/idcapture.js';
  for (const [k, v] of Object.entries(attributes)) script.setAttribute(k, v);
  const loaded = new Promise((resolve, reject) => ((script.onload = resolve), (script.onerror = reject)));
  document.head.append(script);
  return loaded;
}

describe('links from emails: the script tag', () => {
  afterEach(() => {
    window.idcapture?.destroy?.();
    delete window.idcapture;
    history.replaceState(null, '', home);
    localStorage.clear();
  });

  it('cleans the address as it starts, then loads dist/link.js beside itself, which queues the link', async () => {
    await json('/__backend/reset', {});
    const email = unique('tag');
    const token = await sign({ email, link: '1' });
    history.replaceState(null, '', `${home}?x=1&idc=${token}#top`);
    const endpoint = `${api}/api/verified?run=${Math.random().toString(36).slice(2)}`;
    const release = await holdQueue(endpoint);
    performance.clearResourceTimings();
    await loadTag({ 'data-endpoint': endpoint, 'data-autocapture': 'false' });
    // The tag's own run (its load event follows it) took the token out: no wait for dist/link.js.
    equal(location.href, `${location.origin}${home}?x=1#top`);
    const upsert = await new Promise((resolve) => window.idcapture.on('queued', ({ upsert }) => resolve(upsert)));
    assert(linkLoaded(), 'dist/link.js was loaded');
    deepEqual(upsert.attributes, { vuid: window.idcapture.vuid, email });
    release();
    deepEqual(await window.idcapture.flush(), { sent: 1, pending: 0, dropped: 0 });
  });

  it('data-link-parameter="false" loads nothing and leaves the address alone', async () => {
    history.replaceState(null, '', `${home}?idc=abc.def.ghi`);
    const endpoint = `/unavailable/${Math.random().toString(36).slice(2)}`;
    performance.clearResourceTimings();
    await loadTag({ 'data-endpoint': endpoint, 'data-autocapture': 'false', 'data-link-parameter': 'false' });
    // The tag decides as it starts: with links off it neither touches the address nor loads dist/link.js.
    equal(location.search, '?idc=abc.def.ghi');
    assert(!linkLoaded(), 'dist/link.js was not loaded');
    deepEqual(await storedRecords(endpoint), []);
  });
});
