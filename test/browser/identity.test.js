import { createIdCapture } from '../../dist/index.js';
import { assert, equal } from './assert.js';
import { clearIdentity, cookieValue, storedRecords, uniqueEndpoint } from './helpers.js';

const HEX32 = /^[0-9a-f]{32}$/;
const dashed = (vuid) => vuid.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

describe('vuid', () => {
  beforeEach(() => clearIdentity());

  it('is 32 lowercase hex characters of a UUIDv4', () => {
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint() });
    assert(HEX32.test(vuid), vuid);
    equal(vuid[12], '4', 'version nibble:');
    assert('89ab'.includes(vuid[16]), `variant nibble ${vuid[16]}`);
  });

  it('is stored in the Zaius cookie format and mirrored in localStorage', () => {
    const before = Date.now();
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint() });
    const cookie = decodeURIComponent(cookieValue('vuid'));
    const [uuid, ms] = cookie.split('|');
    equal(uuid, dashed(vuid));
    assert(Number(ms) >= before && Number(ms) <= Date.now(), `timestamp ${ms}`);
    assert(cookieValue('vuid').includes('%7C'), 'the | is URL-encoded like the Zaius tag does');
    equal(localStorage.getItem('vuid'), cookie);
  });

  it('is the same for every client on the page until reset', () => {
    const a = createIdCapture({ endpoint: uniqueEndpoint() });
    const b = createIdCapture({ endpoint: uniqueEndpoint() });
    equal(b.vuid, a.vuid);
  });

  it('adopts an existing Zaius tag cookie as it is', () => {
    const zaius = '3fdb5249-4fc3-4060-b87a-680be86aeb57%7C1568394081239';
    document.cookie = `vuid=${zaius}; Path=/`;
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint() });
    equal(vuid, '3fdb52494fc34060b87a680be86aeb57');
    equal(cookieValue('vuid'), zaius, 'cookie untouched:');
    equal(localStorage.getItem('vuid'), decodeURIComponent(zaius));
  });

  it('replaces a malformed cookie with a new vuid', () => {
    document.cookie = 'vuid=garbage%E0%A4%A; Path=/';
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint() });
    assert(HEX32.test(vuid), vuid);
    equal(decodeURIComponent(cookieValue('vuid')).split('|')[0], dashed(vuid));
  });

  it('is restored from localStorage when the cookie was cleared', () => {
    const first = createIdCapture({ endpoint: uniqueEndpoint() }).vuid;
    document.cookie = 'vuid=; Path=/; Max-Age=0';
    equal(createIdCapture({ endpoint: uniqueEndpoint() }).vuid, first);
    equal(decodeURIComponent(cookieValue('vuid')).split('|')[0], dashed(first), 'cookie rewritten:');
  });

  it('is restored from the cookie when localStorage was cleared', () => {
    const first = createIdCapture({ endpoint: uniqueEndpoint() }).vuid;
    localStorage.clear();
    equal(createIdCapture({ endpoint: uniqueEndpoint() }).vuid, first);
    assert(localStorage.getItem('vuid').startsWith(dashed(first)), 'localStorage rewritten');
  });

  it('honours cookie options: name and max age', () => {
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint(), cookie: { name: 'shop_vuid', maxAgeDays: 30 } });
    assert(decodeURIComponent(cookieValue('shop_vuid')).startsWith(dashed(vuid)));
    equal(cookieValue('vuid'), undefined, 'default cookie not written:');
    clearIdentity('shop_vuid');
  });

  it('keeps the vuid in localStorage only with cookie: false', () => {
    const { vuid } = createIdCapture({ endpoint: uniqueEndpoint(), cookie: false });
    equal(cookieValue('vuid'), undefined);
    assert(localStorage.getItem('vuid').startsWith(dashed(vuid)));
  });

  it('reset() mints a new vuid; queued upserts keep the one they were made with', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const before = idc.vuid;
    await idc.identify({ email: 'shared@test.com' });
    idc.reset();
    assert(HEX32.test(idc.vuid) && idc.vuid !== before, 'a new vuid');
    assert(decodeURIComponent(cookieValue('vuid')).startsWith(dashed(idc.vuid)), 'cookie updated');
    await idc.identify({ email: 'next@test.com' });
    const [first, second] = await storedRecords(endpoint);
    equal(first.upsert.attributes.vuid, before);
    equal(second.upsert.attributes.vuid, idc.vuid);
  });
});

describe('where storage is blocked', () => {
  // An opaque-origin iframe throws SecurityError from document.cookie, localStorage and indexedDB alike.
  it('keeps a memory identity and queue in a sandboxed iframe, without breaking the page', async () => {
    const frame = document.createElement('iframe');
    frame.sandbox = 'allow-scripts';
    const bundle = new URL('/dist/idcapture.js', location.href).href;
    frame.srcdoc = `<script>
      let queued = 0;
      const errors = [], warnings = [];
      // Reported once the second upsert is queued, in memory.
      const report = () => parent.postMessage({ vuid: idcapture.vuid, errors, warnings, queued }, '*');
      window.idcapture = [['on', 'queued', () => ++queued == 2 && report()], ['identify', { email: 'sandboxed@test.com' }],
        ['identify', { email: 'other@test.com' }]];
      console.error = (...a) => errors.push(String(a[1]));
      console.warn = (...a) => warnings.push(String(a[0]));
    </script>
    <script src="${bundle}" data-endpoint="/api/profiles"></script>`;
    const message = new Promise((resolve) => addEventListener('message', (e) => resolve(e.data), { once: true }));
    document.body.append(frame);
    const { vuid, errors, warnings, queued } = await message;
    frame.remove();
    assert(HEX32.test(vuid), `memory vuid ${vuid}`);
    equal(errors.length, 0, `errors: ${errors}`);
    equal(queued, 2, 'both upserts queued in memory:');
    equal(warnings.length, 1, `warned once: ${warnings}`);
    assert(warnings[0].includes('in memory'), warnings[0]);
  });
});
