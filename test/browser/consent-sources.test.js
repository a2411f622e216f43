// Consent from the platforms stores run: each source is driven through its real protocol (TCF by the IAB Tech Lab's
// own CMP API, Google Consent Mode by gtag's dataLayer commands; Shopify, OneTrust and Cookiebot by fixtures that
// follow their public documentation, test/fixtures/consent/), and what the client stores is read from IndexedDB.
import { createClient } from '../../dist/test/internals.js';
import { cookiebot, gcm, onetrust, shopify, tcf } from '../../dist/consent.js';
import { assert, deepEqual, equal } from './assert.js';
import { manualClock } from './clock.js';
import { capturingConsole, clearIdentity, cookieValue, storedRecords, uniqueEndpoint } from './helpers.js';
import { CmpApiModel } from '@iabtechlabtcf/cmpapi';
import { installStub, loadCmp, removeCmp, tcString, VENDOR } from '../fixtures/consent/tcf.js';
import { gtagSnippet, loadGtag, removeGtag } from '../fixtures/consent/gtag.js';
import * as shopifyPage from '../fixtures/consent/shopify.js';
import * as onetrustPage from '../fixtures/consent/onetrust.js';
import * as cookiebotPage from '../fixtures/consent/cookiebot.js';

const GRANT = { purposes: [1, 5] };
let clients = [];

/**
 * A client taking consent from `source`, with a clock the test advances; its 'consent' events are kept. Resolves once
 * the source has started (a microtask after the client).
 */
async function start(source, options = {}) {
  const clock = manualClock();
  const endpoint = uniqueEndpoint();
  const { client } = createClient({ endpoint, autocapture: false, consentSource: source, ...options }, clock);
  clients.push(client);
  const answers = [];
  client.on('consent', (detail) => answers.push(detail));
  await settle();
  return { client, endpoint, clock, answers };
}

/** What the client does with an upsert now: 'granted' stores it, 'pending' holds it, 'denied' drops it. */
async function consentOf({ client, endpoint }) {
  // The source starts a microtask after the client; its platform's first answer has come by the next task.
  await settle();
  const email = `probe-${Math.random().toString(36).slice(2)}@test.com`;
  await client.identify({ email });
  const stored = (await storedRecords(endpoint)).some((r) => r.upsert.attributes.email == email);
  if (stored) return 'granted';
  return (await client.flush()).pending ? 'pending' : 'denied';
}

const emails = async (endpoint) => (await storedRecords(endpoint)).map((r) => r.upsert.attributes.email);
/** Lets the promise callbacks queued so far run (a CMP's callbacks, the IndexedDB writes they start). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
/** Resolves once `endpoint` holds `email` (IndexedDB writes are asynchronous). */
async function stored(client, email) {
  await new Promise((resolve) => client.on('queued', ({ upsert }) => upsert.attributes.email == email && resolve()));
}

afterEach(() => {
  clients.forEach((c) => c.destroy());
  clients = [];
  clearIdentity();
  localStorage.clear();
});

describe('consent source: IAB TCF v2.2 (the IAB Tech Lab CMP API)', () => {
  afterEach(removeCmp);

  it('a choice made before idcapture loads (tcloaded) grants at once', async () => {
    loadCmp().update(tcString(GRANT), false);
    const page = await start(tcf());
    await settle();
    equal(await consentOf(page), 'granted');
    deepEqual(page.answers.map((a) => a.answer), ['tcf tcloaded']);
  });

  it('pending while the CMP asks (cmpuishown); the visitor grants, then withdraws: the queue and the vuid are purged', async () => {
    installStub();
    const page = await start(tcf());
    await page.client.identify({ email: 'held@test.com' });
    const cmp = loadCmp();
    cmp.update('', true);
    await settle();
    equal(await consentOf(page), 'pending', 'at cmpuishown:');
    equal(cookieValue('vuid'), undefined, 'no cookie while pending:');

    const queued = stored(page.client, 'held@test.com');
    cmp.update(tcString(GRANT), false);
    await queued;
    assert((await emails(page.endpoint)).includes('held@test.com'), 'what waited is stored on the grant');
    assert(cookieValue('vuid'), 'the vuid is stored');

    cmp.update(tcString({ purposes: [1] }), false);
    await settle();
    deepEqual(await storedRecords(page.endpoint), [], 'purged:');
    equal(cookieValue('vuid'), undefined, 'vuid deleted:');
    equal(await consentOf(page), 'denied');
    deepEqual(page.answers.map((a) => `${a.answer} ${a.state}`), ['tcf cmpuishown pending', 'tcf useractioncomplete granted', 'tcf useractioncomplete denied']);
  });

  it('waits for a __tcfapi that appears after idcapture, looking on its clock', async () => {
    const page = await start(tcf());
    await page.clock.advance(3000);
    equal(await consentOf(page), 'pending');
    loadCmp().update(tcString(GRANT), false);
    await page.clock.advance(100);
    equal(await consentOf(page), 'granted');
  });

  it('a CMP that never loads: pending after the 10 s wait, nothing stored, one warning', async () => {
    const warnings = await capturingConsole('warn', async () => {
      const page = await start(tcf());
      await page.client.identify({ email: 'waits@test.com' });
      await page.clock.advance(9900);
      equal(page.answers.length, 0, 'still looking:');
      await page.clock.advance(100);
      deepEqual(page.answers, [{ state: 'pending', answer: 'tcf not found' }]);
      await page.clock.advance(60000);
      deepEqual(await page.client.flush(), { sent: 0, pending: 1, dropped: 0 });
      deepEqual(await storedRecords(page.endpoint), []);
    });
    deepEqual(warnings, [['[idcapture] consent source: tcf not found (consent stays as it is)']]);
  });

  it('where GDPR does not apply (gdprApplies: false), granted', async () => {
    loadCmp().update(null);
    const page = await start(tcf());
    await settle();
    equal(await consentOf(page), 'granted');
  });

  it('the purposes and the vendor id are configurable', async () => {
    const cmp = loadCmp();
    cmp.update(tcString({ purposes: [1, 5], vendors: [756] }), false);
    const vendor = await start(tcf({ vendor: VENDOR }));
    const purposes = await start(tcf({ purposes: [1, 3, 5] }));
    const defaults = await start(tcf());
    await settle();
    equal(await consentOf(vendor), 'denied', 'without consent to the vendor:');
    equal(await consentOf(purposes), 'denied', 'without purpose 3:');
    equal(await consentOf(defaults), 'granted');
    cmp.update(tcString({ purposes: [1, 3, 5], vendors: [VENDOR] }), false);
    await settle();
    equal(await consentOf(vendor), 'granted');
    equal(await consentOf(purposes), 'granted');
  });

  it('malformed answers leave consent pending, with one warning', async () => {
    let callback;
    window.__tcfapi = (command, version, fn) => command == 'addEventListener' && (callback = fn);
    const warnings = await capturingConsole('warn', async () => {
      const page = await start(tcf());
      callback({ eventStatus: 'tcloaded', gdprApplies: true, purpose: 'all' }, true);
      callback({ eventStatus: 'sideways', gdprApplies: true, purpose: { consents: { 1: true, 5: true } } }, true);
      callback(null, false);
      equal(await consentOf(page), 'pending');
      deepEqual(page.answers.map((a) => a.answer), ['tcf tcloaded', 'tcf sideways', 'tcf failed']);
    });
    equal(warnings.length, 1, 'warnings:');
  });

  it('Global Privacy Control keeps a TCF grant denied, unless respectGlobalPrivacyControl: false', async () => {
    loadCmp().update(tcString(GRANT), false);
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    try {
      const gpc = await start(tcf());
      const ignored = await start(tcf(), { respectGlobalPrivacyControl: false });
      await settle();
      equal(await consentOf(gpc), 'denied');
      deepEqual(gpc.answers, [{ state: 'denied', answer: 'tcf tcloaded' }]);
      equal(await consentOf(ignored), 'granted');
    } finally {
      delete navigator.globalPrivacyControl;
    }
  });

  it('setConsent wins over the source until the source changes its answer', async () => {
    const cmp = loadCmp();
    cmp.update(tcString(GRANT), false);
    const page = await start(tcf());
    await settle();
    page.client.setConsent('denied');
    cmp.update(tcString(GRANT), false);
    await settle();
    equal(await consentOf(page), 'denied', 'the same answer again:');
    cmp.update(tcString({ purposes: [1] }), false);
    cmp.update(tcString(GRANT), false);
    await settle();
    equal(await consentOf(page), 'granted', 'a new answer:');
  });

  it('a destroyed client removes its listener from the CMP', async () => {
    const cmp = loadCmp();
    cmp.update(tcString(GRANT), false);
    const page = await start(tcf());
    await settle();
    equal(CmpApiModel.eventQueue.size, 1, 'listening:');
    page.client.destroy();
    equal(CmpApiModel.eventQueue.size, 0, 'after destroy():');
  });
});

describe('consent source: Google Consent Mode v2 (the gtag dataLayer protocol)', () => {
  afterEach(removeGtag);

  it("a 'default' that denies is pending; an 'update' pushed later grants, and a later one withdraws and purges", async () => {
    const gtag = gtagSnippet();
    gtag('consent', 'default', { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied' });
    gtag('js', new Date());
    gtag('config', 'G-XXXXXXXXXX');
    const page = await start(gcm());
    loadGtag();
    await page.client.identify({ email: 'held@test.com' });
    equal(await consentOf(page), 'pending');

    const queued = stored(page.client, 'held@test.com');
    gtag('consent', 'update', { ad_user_data: 'granted', analytics_storage: 'granted' });
    await queued;
    equal(await consentOf(page), 'granted');

    gtag('consent', 'update', { analytics_storage: 'denied' });
    await settle();
    deepEqual(await storedRecords(page.endpoint), [], 'purged:');
    equal(await consentOf(page), 'denied');
    deepEqual(page.answers.map((a) => `${a.answer} ${a.state}`), ['gcm default pending', 'gcm update granted', 'gcm update denied']);
  });

  it("named ('gcm'): the source is imported when the client starts, with its defaults, and follows the commands", async () => {
    const gtag = gtagSnippet();
    gtag('consent', 'default', { ad_user_data: 'denied', analytics_storage: 'denied' });
    const endpoint = uniqueEndpoint();
    const { client } = createClient({ endpoint, autocapture: false, consentSource: 'gcm' }, manualClock());
    clients.push(client);
    const answers = [];
    const answered = (n) => new Promise((resolve) => client.on('consent', (detail) => answers.push(detail) >= n && resolve()));
    await answered(1);
    deepEqual(answers, [{ state: 'pending', answer: 'gcm default' }]);
    const more = answered(2);
    gtag('consent', 'update', { ad_user_data: 'granted', analytics_storage: 'granted' });
    await more;
    equal(answers[1].state, 'granted');
  });

  it("an 'update' made before idcapture loads counts; so do commands on a dataLayer idcapture created first", async () => {
    const gtag = gtagSnippet();
    gtag('consent', 'default', { ad_user_data: 'denied', analytics_storage: 'denied' });
    gtag('consent', 'update', { ad_user_data: 'granted', analytics_storage: 'granted' });
    equal(await consentOf(await start(gcm())), 'granted', 'before:');
    removeGtag();

    const early = await start(gcm());
    const later = gtagSnippet();
    later('consent', 'update', { ad_user_data: 'granted', analytics_storage: 'granted' });
    equal(await consentOf(early), 'granted', 'after:');
  });

  it('a default that grants every key (no choice needed) grants; a regional default that denies keeps it pending', async () => {
    const gtag = gtagSnippet();
    gtag('consent', 'default', { ad_user_data: 'granted', analytics_storage: 'granted' });
    equal(await consentOf(await start(gcm())), 'granted');
    gtag('consent', 'default', { ad_user_data: 'denied', analytics_storage: 'denied', region: ['ES', 'FR'] });
    equal(await consentOf(await start(gcm())), 'pending');
  });

  it('the keys are configurable', async () => {
    const gtag = gtagSnippet();
    gtag('consent', 'update', { ad_user_data: 'denied', analytics_storage: 'granted' });
    equal(await consentOf(await start(gcm())), 'denied');
    equal(await consentOf(await start(gcm({ keys: ['analytics_storage'] }))), 'granted');
  });

  it('malformed commands leave consent pending, with one warning', async () => {
    const gtag = gtagSnippet();
    const warnings = await capturingConsole('warn', async () => {
      const page = await start(gcm());
      gtag('consent', 'update', 'granted');
      gtag('consent', 'update', { analytics_storage: 'yes', ad_user_data: 'granted' });
      gtag('consent', 'revoke', {});
      equal(await consentOf(page), 'pending');
      deepEqual(page.answers.map((a) => a.answer), ['gcm update', 'gcm update', 'gcm revoke']);
    });
    equal(warnings.length, 1, 'warnings:');
  });
});

describe('consent source: Shopify Customer Privacy API (a fixture after shopify.dev)', () => {
  afterEach(shopifyPage.remove);

  it("'' is pending; loadFeatures loads the API where the theme has not; the visitor grants, then withdraws with a purge", async () => {
    shopifyPage.install();
    const page = await start(shopify());
    await page.client.identify({ email: 'held@test.com' });
    await new Promise((resolve) => page.client.on('consent', resolve));
    equal(await consentOf(page), 'pending');

    const queued = stored(page.client, 'held@test.com');
    window.Shopify.customerPrivacy.setTrackingConsent({ marketing: true, analytics: true, preferences: true });
    await queued;
    equal(await consentOf(page), 'granted');
    window.Shopify.customerPrivacy.setTrackingConsent({ marketing: false, analytics: true, preferences: true });
    await settle();
    deepEqual(await storedRecords(page.endpoint), [], 'purged:');
    deepEqual(page.answers.map((a) => `${a.answer} ${a.state}`), [
      'shopify currentVisitorConsent pending',
      'shopify visitorConsentCollected granted',
      'shopify visitorConsentCollected denied',
    ]);
  });

  it('a choice made on an earlier page counts at once; a region without a banner grants; Shopify loading after idcapture is waited for', async () => {
    shopifyPage.install({ loaded: true, marketing: 'yes' });
    equal(await consentOf(await start(shopify())), 'granted', 'earlier choice:');
    shopifyPage.install({ loaded: true, marketing: 'no' });
    equal(await consentOf(await start(shopify())), 'denied', 'earlier refusal:');
    shopifyPage.install({ loaded: true, region: 'US' });
    equal(await consentOf(await start(shopify())), 'granted', 'no banner needed:');
    shopifyPage.remove();
    const late = await start(shopify());
    await late.clock.advance(500);
    shopifyPage.install({ loaded: true, marketing: 'yes' });
    await late.clock.advance(100);
    equal(await consentOf(late), 'granted', 'loaded later:');
  });

  it('an answer it cannot read leaves consent pending, with one warning', async () => {
    window.Shopify = { customerPrivacy: { currentVisitorConsent: () => ({ marketing: true }) } };
    const warnings = await capturingConsole('warn', async () => {
      const page = await start(shopify());
      document.dispatchEvent(new CustomEvent('visitorConsentCollected'));
      equal(await consentOf(page), 'pending');
      equal(page.answers.length, 2);
    });
    equal(warnings.length, 1, 'warnings:');
  });
});

describe('consent source: OneTrust (a fixture after OneTrust\'s events guide)', () => {
  afterEach(onetrustPage.remove);

  it('pending until the visitor closes the banner; Targeting (C0004) grants, and leaving it out later purges', async () => {
    const page = await start(onetrust());
    await page.client.identify({ email: 'held@test.com' });
    onetrustPage.load();
    equal(await consentOf(page), 'pending', 'banner open:');
    const queued = stored(page.client, 'held@test.com');
    onetrustPage.choose(['C0002', 'C0004']);
    await queued;
    equal(await consentOf(page), 'granted');
    onetrustPage.choose(['C0002']);
    await settle();
    deepEqual(await storedRecords(page.endpoint), [], 'purged:');
    equal(await consentOf(page), 'denied');
    deepEqual(page.answers.map((a) => `${a.answer} ${a.state}`), [
      'onetrust OneTrustGroupsUpdated pending',
      'onetrust OneTrustGroupsUpdated granted',
      'onetrust OneTrustGroupsUpdated denied',
    ]);
  });

  it('a choice made on an earlier page counts at once; the group is configurable', async () => {
    onetrustPage.load({ answered: true, groups: ['C0001', 'C0003'] });
    equal(await consentOf(await start(onetrust())), 'denied');
    equal(await consentOf(await start(onetrust({ group: 'C0003' }))), 'granted');
  });

  it('never loaded: pending after the 10 s wait, nothing stored, one warning', async () => {
    const warnings = await capturingConsole('warn', async () => {
      const page = await start(onetrust());
      await page.client.identify({ email: 'waits@test.com' });
      await page.clock.advance(10000);
      deepEqual(page.answers, [{ state: 'pending', answer: 'onetrust not found' }]);
      deepEqual(await page.client.flush(), { sent: 0, pending: 1, dropped: 0 });
      deepEqual(await storedRecords(page.endpoint), []);
    });
    equal(warnings.length, 1, 'warnings:');
  });

  it('an OnetrustActiveGroups that is no list leaves consent pending, with one warning', async () => {
    const warnings = await capturingConsole('warn', async () => {
      onetrustPage.load({ answered: true });
      window.OnetrustActiveGroups = ['C0004'];
      const page = await start(onetrust());
      dispatchEvent(new CustomEvent('OneTrustGroupsUpdated'));
      equal(await consentOf(page), 'pending');
    });
    equal(warnings.length, 1, 'warnings:');
  });
});

describe('consent source: Cookiebot (a fixture after Cookiebot\'s developer resources)', () => {
  afterEach(cookiebotPage.remove);

  it('pending until the visitor answers; accepting marketing grants, declining later purges', async () => {
    cookiebotPage.load();
    const page = await start(cookiebot());
    await page.client.identify({ email: 'held@test.com' });
    equal(await consentOf(page), 'pending');
    const queued = stored(page.client, 'held@test.com');
    cookiebotPage.respond({ statistics: true, marketing: true });
    await queued;
    equal(await consentOf(page), 'granted');
    cookiebotPage.respond({ statistics: true });
    await settle();
    deepEqual(await storedRecords(page.endpoint), [], 'purged:');
    equal(await consentOf(page), 'denied');
    deepEqual(
      page.answers.map((a) => `${a.answer} ${a.state}`),
      ['cookiebot consent pending', 'cookiebot CookiebotOnConsentReady granted', 'cookiebot CookiebotOnAccept granted', 'cookiebot CookiebotOnConsentReady denied', 'cookiebot CookiebotOnAccept denied'],
    );
  });

  it('Cookiebot loading after idcapture, with a choice from an earlier page; the category is configurable', async () => {
    const marketing = await start(cookiebot());
    const statistics = await start(cookiebot({ category: 'statistics' }));
    cookiebotPage.load({ statistics: true });
    equal(await consentOf(marketing), 'denied');
    equal(await consentOf(statistics), 'granted');
  });

  it('a consent that is no boolean leaves consent pending, with one warning', async () => {
    const warnings = await capturingConsole('warn', async () => {
      cookiebotPage.load();
      const page = await start(cookiebot());
      Object.assign(window.Cookiebot, { hasResponse: true, consent: { marketing: 'true' } });
      dispatchEvent(new Event('CookiebotOnAccept'));
      dispatchEvent(new Event('CookiebotOnAccept'));
      equal(await consentOf(page), 'pending');
    });
    equal(warnings.length, 1, 'warnings:');
  });
});

describe('consent source options', () => {
  const refuses = (run, message) => {
    try {
      run();
    } catch (error) {
      equal(error.message, message);
      assert(error instanceof TypeError, error.name);
      return;
    }
    throw new Error(`expected a TypeError: ${message}`);
  };

  it('every source refuses unknown option names and bad values, naming the option', () => {
    refuses(() => tcf({ purpose: [1] }), 'idcapture: unknown option tcf.purpose (did you mean tcf.purposes?)');
    refuses(() => tcf({ purposes: [0] }), 'idcapture: option tcf.purposes must be a list of TCF purposes (1 to 11)');
    refuses(() => tcf({ vendor: 'x' }), 'idcapture: option tcf.vendor must be a vendor id');
    refuses(() => gcm({ key: ['ad_user_data'] }), 'idcapture: unknown option gcm.key (did you mean gcm.keys?)');
    refuses(() => gcm({ keys: [] }), 'idcapture: option gcm.keys must be a list of consent keys');
    refuses(() => onetrust({ groups: 'C0004' }), 'idcapture: unknown option onetrust.groups (did you mean onetrust.group?)');
    refuses(() => onetrust({ group: 'C0004,C0002' }), 'idcapture: option onetrust.group must be a category id');
    refuses(() => cookiebot({ categories: 'marketing' }), 'idcapture: unknown option cookiebot.categories (did you mean cookiebot.category?)');
    refuses(() => cookiebot({ category: 'necessary' }), 'idcapture: option cookiebot.category must be marketing, statistics, preferences');
    refuses(() => createClient({ endpoint: '/x', consentSource: 'didomi' }), 'idcapture: option consentSource must be one of tcf, gcm, shopify, onetrust, cookiebot, or a source from idcapture/consent');
  });
});

describe('consent source: the script tag (data-consent-source)', () => {
  afterEach(() => {
    window.idcapture?.destroy?.();
    delete window.idcapture;
    removeGtag();
    removeCmp();
  });

  /** Loads the production tag as a storefront does, with `attributes`; resolves once it has run. */
  function loadTag(attributes, src = '/dist/idcapture.js') {
    const script = document.createElement('script');
    script.src = src;
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
    const loaded = new Promise((resolve, reject) => Object.assign(script, { onload: resolve, onerror: reject }));
    document.head.append(script);
    return loaded;
  }
  /** The tag's first 'consent' event, subscribed to before the tag loads (its adapter may answer before onload). */
  const firstAnswer = (queued = []) =>
    new Promise((resolve) => (window.idcapture = [['on', 'consent', resolve], ...queued]));
  const loadedFiles = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.startsWith('/dist/consent/'));

  it('one attribute: the tag loads dist/consent/gcm.js from beside itself, pending until the update grants', async () => {
    const endpoint = uniqueEndpoint();
    const gtag = gtagSnippet();
    gtag('consent', 'default', { ad_user_data: 'denied', analytics_storage: 'denied' });
    const answer = firstAnswer([['identify', { email: 'tag-held@test.com' }]]);
    await loadTag({ 'data-endpoint': endpoint, 'data-consent-source': 'gcm' });
    deepEqual(await answer, { state: 'pending', answer: 'gcm default' });
    deepEqual(await storedRecords(endpoint), []);
    assert(loadedFiles().includes('/dist/consent/gcm.js'), `loaded: ${loadedFiles()}`);
    assert(!loadedFiles().some((file) => !file.endsWith('/gcm.js')), `only gcm's file: ${loadedFiles()}`);

    const queued = stored(window.idcapture, 'tag-held@test.com');
    gtag('consent', 'update', { ad_user_data: 'granted', analytics_storage: 'granted' });
    await queued;
    deepEqual(await emails(endpoint), ['tag-held@test.com']);
  });

  it("the source's data-* options reach its adapter file: data-tcf-purposes with the IAB CMP", async () => {
    loadCmp().update(tcString({ purposes: [1] }), false);
    const purposeOne = firstAnswer();
    await loadTag({ 'data-endpoint': uniqueEndpoint(), 'data-consent-source': 'tcf', 'data-tcf-purposes': '1' });
    deepEqual(await purposeOne, { state: 'granted', answer: 'tcf tcloaded' }, 'data-tcf-purposes="1":');
    window.idcapture.destroy();
    const defaults = firstAnswer();
    await loadTag({ 'data-endpoint': uniqueEndpoint(), 'data-consent-source': 'tcf' });
    deepEqual(await defaults, { state: 'denied', answer: 'tcf tcloaded' }, 'the default purposes, 1 and 5:');
  });

  it('the debug tag logs each answer and the consent that follows', async () => {
    gtagSnippet()('consent', 'default', { ad_user_data: 'granted', analytics_storage: 'granted' });
    const logs = await capturingConsole('log', async () => {
      const answer = firstAnswer();
      await loadTag({ 'data-endpoint': uniqueEndpoint(), 'data-consent-source': 'gcm', 'data-debug': '' }, '/dist/idcapture.debug.js');
      await answer;
    });
    assert(logs.some(([tag, text]) => tag == '[idcapture]' && text == 'consent source: gcm default → consent granted'), JSON.stringify(logs));
  });

  it('a name that is no source: its file is not found, the error is reported, consent stays pending', async () => {
    const endpoint = uniqueEndpoint();
    const errors = await capturingConsole('error', async () => {
      await loadTag({ 'data-endpoint': endpoint, 'data-consent-source': 'tfc' });
      await new Promise((resolve) => window.idcapture.on('error', resolve));
    });
    equal(errors.length, 1, 'errors:');
    await window.idcapture.identify({ email: 'unsourced@test.com' });
    deepEqual(await window.idcapture.flush(), { sent: 0, pending: 1, dropped: 0 });
    deepEqual(await storedRecords(endpoint), []);
  });
});
