import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, storedRecords } from './helpers.js';

/** Loads dist/idcapture.js the way a storefront does: stub array first, then the async tag with data-*. */
function loadTag(attributes) {
  const script = document.createElement('script');
  script.src = '/dist/idcapture.js';
  for (const [k, v] of Object.entries(attributes)) script.setAttribute(k, v);
  const loaded = new Promise((resolve, reject) => {
    script.onload = resolve;
    script.onerror = reject;
  });
  document.head.append(script);
  return loaded;
}

describe('script tag', () => {
  afterEach(() => delete window.idcapture);

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
      window.idcapture.on('error', ({ error }) => events.push(error.name));
      window.idcapture.push(['nonsense', 1]);
      window.idcapture.push(['identify', { username: 'x' }]);
      window.idcapture.push(null, {}, 'identify');
      await new Promise((resolve) => setTimeout(resolve, 50));
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
});
