// Safari's ITP simulated for real, in WebKit and Chromium: a visitor grants consent and is identified; then every
// script-writable store is wiped (all non-HttpOnly cookies, localStorage, IndexedDB), as Safari does to a site not
// interacted with for 7 days. With the vuid's HttpOnly server twin (the Node proxy on the store's origin, or the
// idcapture/edge Worker in workerd) the next page load has the same vuid and a new identify() lands on the same
// profile; on a static site without it, a new vuid. Firefox has no such limit and is left out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { launch } from '../helpers/drivers.js';
import { selectedEngines } from '../browsers.js';
import { until } from '../helpers/e2e.js';
import { grantAndIdentify, profileOf, startStores, stored, vuidAfterReload, wipeScriptStorage } from '../helpers/stores.js';

let backend;
before(async () => (backend = await startStores()));
after(() => backend?.close());

const engines = selectedEngines().filter((engine) => engine != 'firefox');

for (const engine of engines) {
  describe(engine, () => {
    let browser;
    before(async () => (browser = await launch(engine)));
    after(() => browser?.close());

    /** One visitor on `store`: identified, wiped, back. Resolves both vuids and the profile of the first email. */
    async function comeBackAfterAWipe(store, name) {
      const { emulator } = backend;
      const base = backend.stores[store].url;
      const session = await browser.session();
      try {
        const tab = await session.open(`${base}/`);
        await tab.waitFor(() => typeof window.idcapture?.identify == 'function');
        assert.deepEqual(await session.cookies(), [], 'nothing is set while consent is pending');
        const email = `${name}-${engine}-${store}@test.com`;
        const before = await grantAndIdentify(tab, email);
        await stored(emulator, email);
        const names = (await session.cookies()).map((c) => `${c.name}${c.httpOnly ? ' (HttpOnly)' : ''}`).sort();
        const left = await wipeScriptStorage(session, tab, base);
        const after = await vuidAfterReload(tab, base);
        await grantAndIdentify(tab, email, { first_name: 'Back' });
        await until(() => profileOf(emulator, email)?.first_name == 'Back', 'the second upsert');
        return { before, after, names, left, profile: profileOf(emulator, email) };
      } finally {
        await session.close();
      }
    }

    for (const store of ['node', 'edge']) {
      test(`${store}: the same vuid after the wipe, through the server twin, and a new identify() lands on the same profile`, async () => {
        const { before, after, names, left, profile } = await comeBackAfterAWipe(store, 'twin');
        assert.deepEqual(names, ['idc_vuid (HttpOnly)', 'vuid'], 'after consent: the script cookie and its HttpOnly twin');
        assert.deepEqual(left, ['idc_vuid'], 'the wipe leaves only the twin');
        assert.equal(after, before);
        assert.deepEqual(profile.vuids, [before], 'one profile, one visitor id');
      });
    }

    test('plain (static site, no twin): a new vuid after the wipe, asserted', async () => {
      const { before, after, names, left, profile } = await comeBackAfterAWipe('plain', 'static');
      assert.deepEqual(names, ['vuid']);
      assert.deepEqual(left, []);
      assert.notEqual(after, before);
      // The profile is found again only by the email, now with a second, unrelated vuid.
      assert.deepEqual(new Set(profile.vuids), new Set([before, after]));
    });

    test('node: a denial clears the twin (the client asks the proxy), and reset() moves it to the new vuid', async () => {
      const base = backend.stores.node.url;
      const session = await browser.session();
      const twin = async () => (await session.cookies()).find((c) => c.name == 'idc_vuid')?.value;
      try {
        const tab = await session.open(`${base}/`);
        const first = await grantAndIdentify(tab, `deny-${engine}@test.com`);
        assert.equal(decodeURIComponent(await twin()).split('|')[0].replace(/-/g, ''), first);
        await tab.evaluate(() => window.idcapture.reset());
        await until(async () => !(await twin()), 'the twin cleared on reset()');
        const second = await grantAndIdentify(tab, `deny-${engine}@test.com`, { first_name: 'Reset' });
        assert.notEqual(second, first);
        assert.equal(decodeURIComponent(await until(twin, 'a new twin')).split('|')[0].replace(/-/g, ''), second);
        await tab.evaluate(() => window.idcapture.setConsent('denied'));
        await until(async () => !(await session.cookies()).length, 'no cookie left after the denial');
      } finally {
        await session.close();
      }
    });
  });
}
