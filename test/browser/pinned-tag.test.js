// The pinned tag, dist/idcapture-<version>.js, loaded as README shows it: with the sha384 integrity the build printed
// (dist/integrity.json) and crossorigin. The right hash runs the tag; a wrong one is blocked by the browser, and the
// page goes on working with the stub array in place, its calls waiting.
import { assert, equal } from './assert.js';

const json = async (path) => (await fetch(path)).json();

/** Adds the pinned tag with `integrity`; resolves 'load' or 'error'. */
function loadPinned(src, integrity) {
  const script = document.createElement('script');
  script.src = src;
  script.integrity = integrity;
  script.crossOrigin = 'anonymous';
  script.dataset.endpoint = '/unavailable/pinned-tag';
  const settled = new Promise((resolve) => {
    script.onload = () => resolve('load');
    script.onerror = () => resolve('error');
  });
  document.head.append(script);
  return settled;
}

describe('pinned tag with Subresource Integrity', () => {
  let src;
  let integrity;
  before(async () => {
    const { version } = await json('/package.json');
    src = `/dist/idcapture-${version}.js`;
    integrity = (await json('/dist/integrity.json'))[`idcapture-${version}.js`];
  });
  afterEach(() => {
    window.idcapture?.destroy?.();
    delete window.idcapture;
  });

  it('the integrity the build printed is the sha384 of the file served', async () => {
    const bytes = await (await fetch(src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-384', bytes));
    equal(integrity, `sha384-${btoa(String.fromCharCode(...digest))}`);
  });

  it('runs with the right hash: window.idcapture becomes the client and replays the stub', async () => {
    window.idcapture = [['identify', { email: 'pinned@test.com' }]];
    equal(await loadPinned(src, integrity), 'load');
    assert(/^[0-9a-f]{32}$/.test(window.idcapture.vuid), 'window.idcapture is the client');
  });

  it('is blocked with a wrong hash, and the page is unharmed: the stub stays, calls wait in it', async () => {
    const stub = [['identify', { email: 'pinned@test.com' }]];
    window.idcapture = stub;
    const wrong = `sha384-${btoa(String.fromCharCode(...new Uint8Array(48)))}`;
    equal(await loadPinned(src, wrong), 'error');
    equal(window.idcapture, stub, 'the tag did not run');
    window.idcapture.push(['identify', { email: 'later@test.com' }]);
    equal(stub.length, 2);
    const el = document.createElement('p');
    document.body.append(el);
    el.textContent = 'still working';
    equal(document.body.lastChild.textContent, 'still working');
    el.remove();
  });
});
