import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, clearIdentity, storedRecords } from './helpers.js';

/** Loads `src` (the production tag unless told) the way a storefront does: stub array first, then the tag with data-*. */
function loadTag(attributes, src = '/dist/idcapture.js') {
  const script = document.createElement('script');
  script.src = src;
  for (const [k, v] of Object.entries(attributes)) script.setAttribute(k, v);
  const loaded = new Promise((resolve, reject) => {
    script.onload = resolve;
    script.onerror = reject;
  });
  document.head.append(script);
  return loaded;
}

const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();

/** A form on the page whose submission does not leave it. */
function form(id, email) {
  const el = document.createElement('form');
  el.id = id;
  el.innerHTML = `<input type="email" name="email" value="${email}"><button>Go</button>`;
  el.addEventListener('submit', (e) => e.preventDefault());
  document.body.append(el);
  return el;
}

describe('script tag', () => {
  // A consent remembered by an earlier test file would win over data-consent.
  before(() => localStorage.clear());
  afterEach(() => {
    window.idcapture?.destroy?.();
    delete window.idcapture;
    document.querySelectorAll('form').forEach((f) => f.remove());
  });

  it('replays calls pushed before it loaded, in order, then keeps accepting push()', async () => {
    const endpoint = '/unavailable/script-tag';
    window.idcapture = window.idcapture || [];
    const queued = [];
    window.idcapture.push(['on', 'queued', ({ upsert }) => queued.push(upsert.attributes.email)]);
    window.idcapture.push(['identify', { email: 'first@test.com' }, { first_name: 'Johnny' }]);
    window.idcapture.push(['identify', { email: 'second@test.com' }]);
    await loadTag({ 'data-endpoint': endpoint });

    assert(/^[0-9a-f]{32}$/.test(window.idcapture.vuid), 'window.idcapture is the client');
    window.idcapture.push(['identify', { email: 'third@test.com' }]);
    await new Promise((resolve) => window.idcapture.on('queued', ({ upsert }) => upsert.attributes.email == 'third@test.com' && resolve()));
    deepEqual(queued, ['first@test.com', 'second@test.com', 'third@test.com']);
    const records = await storedRecords(endpoint);
    deepEqual(records.map((r) => r.upsert.attributes.email), ['first@test.com', 'second@test.com', 'third@test.com']);
    equal(records[0].upsert.attributes.first_name, 'Johnny');
  });

  it('reports bad calls on the console and as error events, and never throws into the page', async () => {
    window.idcapture = [['identify', { email: 'not-an-email' }]];
    const errors = await capturingConsole('error', async () => {
      await loadTag({ 'data-endpoint': '/unavailable/script-tag-errors' });
      const events = [];
      // Five bad calls: the four synchronous refusals, then identify()'s rejection.
      const reported = new Promise((resolve) =>
        window.idcapture.on('error', ({ error }) => events.push(error.name) == 5 && resolve()),
      );
      window.idcapture.push(['nonsense', 1]);
      window.idcapture.push(['identify', { username: 'x' }]);
      window.idcapture.push(null, {}, 'identify');
      await reported;
      deepEqual(events, ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'ValidationError']);
    });
    deepEqual(
      errors.map((args) => args[1].name),
      ['ValidationError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'ValidationError'],
    );
  });

  it('reads consent from data-consent', async () => {
    const endpoint = '/unavailable/script-tag-consent';
    const later = new Promise((resolve) => {
      window.idcapture = [
        ['identify', { email: 'held@test.com' }],
        ['on', 'queued', ({ upsert }) => upsert.attributes.email == 'later@test.com' && resolve()],
        ['setConsent', 'granted'],
        ['identify', { email: 'later@test.com' }],
      ];
    });
    await loadTag({ 'data-endpoint': endpoint, 'data-consent': 'denied' });
    await later;
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.attributes.email), ['later@test.com']);
  });

  it('does not start, and says so, when window.idcapture is taken by something else', async () => {
    const element = Object.assign(document.createElement('div'), { id: 'idcapture' });
    document.body.append(element);
    try {
      const errors = await capturingConsole('error', () => loadTag({ 'data-endpoint': '/unavailable/script-tag-taken' }));
      equal(window.idcapture, element);
      equal(errors.length, 1);
      assert(String(errors[0][0]).includes('taken'), String(errors[0][0]));
    } finally {
      element.remove();
    }
  });

  it('loaded twice, leaves the first client in charge', async () => {
    window.idcapture = [];
    await loadTag({ 'data-endpoint': '/unavailable/script-tag-twice' });
    const first = window.idcapture;
    await loadTag({ 'data-endpoint': '/unavailable/script-tag-other' });
    equal(window.idcapture, first);
  });

  it('without data-endpoint logs the problem instead of breaking the page', async () => {
    const errors = await capturingConsole('error', () => loadTag({}));
    equal(errors.length, 1);
    assert(String(errors[0][1]).includes('endpoint'), String(errors[0][1]));
  });

  it('logs a bad data-* value with the error createIdCapture gives, naming the option, and does not start', async () => {
    const bad = [
      [{ 'data-batch-size': '0' }, 'RangeError', 'batchSize'],
      [{ 'data-batch-size': 'ten' }, 'RangeError', 'batchSize'],
      [{ 'data-consent': 'maybe' }, 'TypeError', 'consent'],
      [{ 'data-consent': '' }, 'TypeError', 'consent'],
      [{ 'data-autocapture': '#signup[' }, 'TypeError', 'autocapture'],
    ];
    for (const [attributes, type, option] of bad) {
      const errors = await capturingConsole('error', () => loadTag({ 'data-endpoint': '/unavailable/script-tag-bad', ...attributes }));
      equal(errors.length, 1);
      const [prefix, error] = errors[0];
      equal(prefix, '[idcapture]');
      equal(error.name, type, JSON.stringify(attributes));
      assert(error.message.startsWith(`idcapture: option ${option} must be `), error.message);
      equal(window.idcapture, undefined, 'not started');
    }
  });

  it('captures forms by default; data-autocapture="false" turns it off', async () => {
    window.idcapture = [];
    await loadTag({ 'data-endpoint': '/unavailable/script-tag-autocapture' });
    const captured = [];
    window.idcapture.on('capture', ({ upsert }) => captured.push(upsert.attributes.email));
    form('on', 'tag@test.com').requestSubmit();
    deepEqual(captured, ['tag@test.com']);
    window.idcapture.destroy();
    delete window.idcapture;

    await loadTag({ 'data-endpoint': '/unavailable/script-tag-no-autocapture', 'data-autocapture': 'false' });
    window.idcapture.on('capture', ({ upsert }) => captured.push(upsert.attributes.email));
    form('off', 'off@test.com').requestSubmit();
    deepEqual(captured, ['tag@test.com']);
  });

  it('data-autocapture="<selector>" captures only the forms it matches', async () => {
    await loadTag({ 'data-endpoint': '/unavailable/script-tag-selector', 'data-autocapture': '#newsletter, .signup' });
    const captured = [];
    window.idcapture.on('capture', ({ upsert }) => captured.push(upsert.attributes.email));
    form('login', 'login@test.com').requestSubmit();
    form('newsletter', 'news@test.com').requestSubmit();
    deepEqual(captured, ['news@test.com']);
  });

  it('data-batch-size sets the upserts per request, seen at the real proxy', async () => {
    await json('/__backend/reset', {});
    const api = (await json('/__backend/api')).url;
    const endpoint = `${api}/api/profiles?queue=${Math.random().toString(36).slice(2)}`;
    // Held while the upserts are queued, so they leave in one flush.
    let release;
    await new Promise((held) => navigator.locks.request(`idcapture:${endpoint}`, () => (held(), new Promise((r) => (release = r)))));
    await loadTag({ 'data-endpoint': endpoint, 'data-batch-size': '2', 'data-autocapture': 'false' });
    for (const n of [1, 2, 3, 4, 5]) await window.idcapture.identify({ email: `batch-${n}@test.com` });
    release();
    deepEqual(await window.idcapture.flush(), { sent: 5, pending: 0, dropped: 0 });
    deepEqual((await json('/__backend/forwarded')).map((batch) => batch.length), [2, 2, 1]);
  });

  it('the debug tag with data-debug logs each decision; data-cookie-domain is set on the vuid cookie', async () => {
    clearIdentity();
    const logs = await capturingConsole('log', async () => {
      await loadTag(
        { 'data-endpoint': '/unavailable/script-tag-debug', 'data-debug': '', 'data-cookie-domain': 'elsewhere.example' },
        '/dist/idcapture.debug.js',
      );
      const queued = new Promise((resolve) => window.idcapture.on('queued', resolve));
      form('debug', 'debug@test.com').requestSubmit();
      await queued;
    });
    const said = (text) => logs.some((args) => args[0] == '[idcapture]' && args.join(' ').includes(text));
    assert(said('email (type)') && said('queued'), JSON.stringify(logs));
    // The browser refuses a cookie for another domain: only the localStorage mirror holds the vuid.
    equal(document.cookie.includes('vuid='), false);
    assert(localStorage.getItem('vuid'), 'mirrored in localStorage');
  });

  it('the production tag with data-debug says once where the debug tag is, and logs no decision', async () => {
    const logs = await capturingConsole('log', async () => {
      await loadTag({ 'data-endpoint': '/unavailable/script-tag-production-debug', 'data-debug': '' }, '/dist/idcapture.js?v=2');
      const captured = new Promise((resolve) => window.idcapture.on('queued', resolve));
      form('production-debug', 'production-debug@test.com').requestSubmit();
      await captured;
    });
    const debugTag = new URL('/dist/idcapture.debug.js?v=2', location.href).href;
    deepEqual(logs, [[`[idcapture] debug output: load ${debugTag}`]]);
  });

  it('the debug tag gives the full reason where the production tag gives a short one, with the same error', async () => {
    const messages = [];
    for (const src of ['/dist/idcapture.js', '/dist/idcapture.debug.js']) {
      await capturingConsole('error', async () => {
        await loadTag({ 'data-endpoint': '/unavailable/script-tag-messages', 'data-autocapture': 'false' }, src);
        const reported = new Promise((resolve) => window.idcapture.on('error', ({ error }) => resolve(error)));
        window.idcapture.push(['identify', { email: 'not-an-email' }]);
        const error = await reported;
        equal(error.name, 'ValidationError');
        equal(error.field, 'email');
        messages.push(error.message);
      });
      window.idcapture.destroy();
      delete window.idcapture;
    }
    deepEqual(messages, ['idcapture: email is not an email', 'idcapture: email is not a valid email address']);
  });

  it('data-identity-token sets the token the tag sends with the upserts it covers', async () => {
    const endpoint = '/unavailable/script-tag-token';
    const claims = btoa(JSON.stringify({ email: 'member@test.com', exp: 4102444800 })).replace(/=+$/, '');
    // A JWT's shape (header.payload.mac): the tag reads the payload, the proxy alone checks the MAC.
    const token = `${btoa('{"alg":"HS256","typ":"JWT"}').replace(/=+$/, '')}.${claims}.${'A'.repeat(43)}`;
    await loadTag({ 'data-endpoint': endpoint, 'data-autocapture': 'false', 'data-identity-token': token });
    window.idcapture.push(['identify', { email: 'member@test.com' }], ['identify', { email: 'guest@test.com' }]);
    await new Promise((resolve) => window.idcapture.on('queued', ({ upsert }) => upsert.attributes.email == 'guest@test.com' && resolve()));
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.token), [token, undefined]);
  });
});
