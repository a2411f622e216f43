// Form auto-capture on a corpus of realistic storefront forms (test/fixtures/forms/). Each test fills a form the way
// the page or the browser would and checks the exact upsert produced, through the client's 'capture' event and in
// the IndexedDB queue, or that none is.
import { sendKeys } from '@web/test-runner-commands';
import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, storedRecords, uniqueEndpoint } from './helpers.js';

let clients = [];
let mounted = [];

/** Puts a fixture into the page; returns its container. */
async function mount(name) {
  const container = document.createElement('div');
  container.innerHTML = await (await fetch(`/test/fixtures/forms/${name}.html`)).text();
  document.body.append(container);
  mounted.push(container);
  return container;
}

/** Puts a form with `html` inside into the page; returns the form. */
function mountForm(html) {
  const form = document.createElement('form');
  form.innerHTML = html;
  document.body.append(form);
  mounted.push(form);
  return form;
}

/** A client with a queue of its own that nothing delivers from, and the captures it reports. */
function client(options = {}) {
  const endpoint = uniqueEndpoint();
  const idc = createIdCapture({ endpoint, ...options });
  clients.push(idc);
  const captures = [];
  idc.on('capture', ({ upsert, form }) => captures.push({ upsert, form }));
  const queued = (n = 1) =>
    new Promise((resolve) => {
      const seen = [];
      idc.on('queued', ({ upsert }) => seen.push(upsert) == n && resolve(seen));
    });
  return { idc, endpoint, captures, queued };
}

/** Sets values as a script or a controlled input would: no events, so only the submit can capture. */
function fill(root, values) {
  for (const [selector, value] of Object.entries(values)) {
    const el = root.querySelector(selector);
    assert(el, `no ${selector}`);
    el.value = value;
  }
}

/** The attributes of every upsert in the queue, oldest first. */
const queuedAttributes = async (endpoint) => (await storedRecords(endpoint)).map((r) => r.upsert.attributes);

/** Submits `form` and checks that exactly `expected` is captured and queued; returns the upsert's attributes. */
async function submitCaptures({ captures, queued, endpoint, idc }, form, expected) {
  const done = queued();
  form.requestSubmit();
  equal(captures.length, 1, 'captures:');
  deepEqual(captures[0].upsert.attributes, { vuid: idc.vuid, ...expected });
  equal(captures[0].form, form);
  await done;
  deepEqual(await queuedAttributes(endpoint), [{ vuid: idc.vuid, ...expected }]);
}

// A real form submission would leave the test page.
const stay = (e) => e.preventDefault();

describe('auto-capture: the storefront corpus', () => {
  before(() => addEventListener('submit', stay));
  after(() => removeEventListener('submit', stay));
  afterEach(() => {
    clients.forEach((c) => c.destroy());
    mounted.forEach((m) => m.remove());
    clients = [];
    mounted = [];
    localStorage.clear();
  });

  it('Shopify footer newsletter: the email', async () => {
    const page = await mount('shopify-newsletter');
    const c = client();
    fill(page, { '[name="contact[email]"]': ' Newsletter@Test.com ' });
    await submitCaptures(c, page.querySelector('form'), { email: 'newsletter@test.com' });
  });

  it('Shopify account registration: names and email, never the password or the marketing checkbox', async () => {
    const page = await mount('shopify-register');
    const c = client();
    fill(page, {
      '#RegisterForm-FirstName': 'Johnny',
      '#RegisterForm-LastName': 'Zaius',
      '#RegisterForm-email': 'johnny@test.com',
      '#RegisterForm-password': 'hunter2-secret',
    });
    page.querySelector('[type=checkbox]').checked = true;
    await submitCaptures(c, page.querySelector('form'), { first_name: 'Johnny', last_name: 'Zaius', email: 'johnny@test.com' });
  });

  it('WooCommerce checkout: the billing address, phone and email; not the account password, notes or shipping copy', async () => {
    const page = await mount('woocommerce-checkout');
    const c = client();
    fill(page, {
      '#billing_first_name': 'Jenny',
      '#billing_last_name': 'Rosen',
      '#billing_company': 'Acme',
      '#billing_country': 'US',
      '#billing_address_1': '1 Main St',
      '#billing_address_2': 'Apt 4',
      '#billing_city': 'Boston',
      '#billing_state': 'MA',
      '#billing_postcode': '02101',
      '#billing_phone': '617-555-0100',
      '#billing_email': 'jenny@test.com',
      '#account_password': 'correct horse',
      '#shipping_first_name': 'Other',
      '#order_comments': 'Leave at the door',
    });
    await submitCaptures(c, page.querySelector('form'), {
      first_name: 'Jenny',
      last_name: 'Rosen',
      country: 'US',
      street1: '1 Main St',
      street2: 'Apt 4',
      city: 'Boston',
      state: 'MA',
      zip: '02101',
      phone: '617-555-0100',
      email: 'jenny@test.com',
    });
  });

  it("Magento address book: street lines, the region's name rather than its id, and the phone as identifier", async () => {
    const page = await mount('magento-address');
    const c = client();
    fill(page, {
      '#firstname': 'Veronica',
      '#lastname': 'Costello',
      '#telephone': '(555) 229-3326',
      '#street_1': '6146 Honey Bluff Parkway',
      '#street_2': 'Suite 10',
      '#region_id': '12',
      '#zip': '49628-7978',
      '#city': 'Calder',
    });
    await submitCaptures(c, page.querySelector('form'), {
      first_name: 'Veronica',
      last_name: 'Costello',
      street1: '6146 Honey Bluff Parkway',
      street2: 'Suite 10',
      country: 'US',
      state: 'California',
      zip: '49628-7978',
      city: 'Calder',
      phone: '(555) 229-3326',
    });
  });

  it('contact form: email and phone; the free-text name and message stay on the page', async () => {
    const page = await mount('contact');
    const c = client();
    fill(page, {
      '#ContactForm-name': 'Sam Doe',
      '#ContactForm-email': 'sam@test.com',
      '#ContactForm-phone': '555-123-4567',
      '#ContactForm-body': 'Where is my order?',
    });
    await submitCaptures(c, page.querySelector('form'), { email: 'sam@test.com', phone: '555-123-4567' });
  });

  it('login form: the email, and the password never leaves the page', async () => {
    const page = await mount('login');
    const c = client();
    fill(page, { '#CustomerEmail': 'returning@test.com', '#CustomerPassword': 'pa55-word-value' });
    await submitCaptures(c, page.querySelector('form'), { email: 'returning@test.com' });
    assert(!JSON.stringify(await storedRecords(c.endpoint)).includes('pa55-word-value'));
  });

  it('payment form: card number, expiry, CVC and security code never leave; a card typed into the phone box neither', async () => {
    const page = await mount('payment');
    const c = client();
    fill(page, {
      '#pay-email': 'payer@test.com',
      '#cc-name': 'J Payer',
      '#cc-number': '4242 4242 4242 4242',
      '#cc-exp': '12/34',
      '#cc-csc': '123',
      '#security-code': '987',
      '#pay-phone': '4000-0566-5566-5556',
      '#pay-zip': '10001',
    });
    await submitCaptures(c, page.querySelector('form'), { zip: '10001', email: 'payer@test.com' });
    // The values only: the random vuid and the records' timestamps may hold a short digit run such as 123 by chance.
    const values = (await queuedAttributes(c.endpoint)).flatMap(({ vuid, ...captured }) => Object.values(captured)).join(' ');
    for (const secret of ['4242', '0566', '12/34', '123', '987', 'J Payer']) assert(!values.includes(secret), secret);
  });

  it('React-style form that calls preventDefault, stops propagation and submits by fetch: still captured once', async () => {
    const page = await mount('react-newsletter');
    const c = client();
    const form = page.querySelector('form');
    let posted;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      e.stopPropagation();
      posted = fetch('/__backend/api');
    });
    // React sets values through the native setter and fires input events; only the submit may capture.
    for (const [name, value] of [['email', 'react@test.com'], ['firstName', 'Ada']]) {
      const input = form.elements[name];
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    equal(c.captures.length, 0, 'no capture on input events:');
    await submitCaptures(c, form, { first_name: 'Ada', email: 'react@test.com' });
    assert(posted, "the page's own handler ran");
    await posted;
  });

  it('an email field outside any form: captured on change when complete and valid, never while typing', async () => {
    const page = await mount('email-no-form');
    const c = client();
    const input = page.querySelector('input');
    input.focus();
    await sendKeys({ type: 'typed@test.co' });
    equal(c.captures.length, 0, 'no capture on keystrokes:');
    await sendKeys({ type: 'm' });
    const done = c.queued();
    // Leaving the field commits the value: change fires (blur() rather than Tab, which WebKit may not move on).
    input.blur();
    equal(c.captures.length, 1);
    deepEqual(c.captures[0].upsert.attributes, { vuid: c.idc.vuid, email: 'typed@test.com' });
    equal(c.captures[0].form, null);
    await done;
    deepEqual(await queuedAttributes(c.endpoint), [{ vuid: c.idc.vuid, email: 'typed@test.com' }]);
  });

  it('an incomplete or invalid email on change captures nothing', async () => {
    const page = await mount('email-no-form');
    const c = client();
    const input = page.querySelector('input');
    for (const value of ['john@', 'john@example', 'not an email', '']) {
      input.value = value;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
    equal(c.captures.length, 0);
  });

  it('the same capture again on this page queues nothing; on the next page (a new client) it is sent again', async () => {
    const endpoint = uniqueEndpoint();
    const first = createIdCapture({ endpoint });
    clients.push(first);
    const captures = [];
    first.on('capture', ({ upsert }) => captures.push(upsert.attributes.email));
    const page = await mount('shopify-newsletter');
    fill(page, { '[name="contact[email]"]': 'twice@test.com' });
    page.querySelector('form').requestSubmit();
    page.querySelector('form').requestSubmit();
    deepEqual(captures, ['twice@test.com'], 'a re-submit on the same page:');
    await storedRecords(endpoint);
    first.destroy();
    // The next page: the visitor restating a value is news (another device may have written since), and nothing about
    // the last capture is kept in localStorage.
    assert(!JSON.stringify({ ...localStorage }).includes('twice@test.com'), 'no profile data in localStorage');
    const next = createIdCapture({ endpoint });
    clients.push(next);
    next.on('capture', ({ upsert }) => captures.push(upsert.attributes.email));
    page.querySelector('form').requestSubmit();
    fill(page, { '[name="contact[email]"]': 'changed@test.com' });
    page.querySelector('form').requestSubmit();
    deepEqual(captures, ['twice@test.com', 'twice@test.com', 'changed@test.com']);
  });

  it('autofill-style change events: the whole form is captured at the email, and the submit that follows adds nothing', async () => {
    const page = await mount('woocommerce-checkout');
    const c = client();
    const form = page.querySelector('form');
    const autofill = {
      '#billing_first_name': 'Ann',
      '#billing_last_name': 'Lee',
      '#billing_address_1': '2 Side St',
      '#billing_city': 'Austin',
      '#billing_postcode': '73301',
      '#billing_phone': '512-555-0199',
      '#billing_email': 'ann@test.com',
    };
    // Chromium's autofill sets each value and fires input then change on it, without keystrokes or focus.
    const done = c.queued();
    for (const [selector, value] of Object.entries(autofill)) {
      const el = form.querySelector(selector);
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
    const expected = { vuid: c.idc.vuid, first_name: 'Ann', last_name: 'Lee', street1: '2 Side St', city: 'Austin', zip: '73301', phone: '512-555-0199', email: 'ann@test.com' };
    equal(c.captures.length, 1);
    deepEqual(c.captures[0].upsert.attributes, expected);
    await done;
    form.requestSubmit();
    equal(c.captures.length, 1, 'the same capture again is skipped:');
    deepEqual(await queuedAttributes(c.endpoint), [expected]);
  });

  it('web components: a form inside an open shadow root, and shadow-root inputs of a light-DOM form', async () => {
    const page = await mount('web-components');
    defineWebComponents();
    const c = client();
    const signup = page.querySelector('#wc-signup').shadowRoot;
    // The shadow root is found on the composed focusin that comes before any typing.
    signup.querySelector('input[type=email]').focus();
    fill(signup, { 'input[type=email]': 'shadow@test.com', 'input[name=first_name]': 'Shade' });
    await submitCaptures(c, signup.querySelector('form'), { first_name: 'Shade', email: 'shadow@test.com' });

    c.captures.length = 0;
    const form = page.querySelector('#wc-light-form');
    page.querySelector('#wc-email').shadowRoot.querySelector('input').value = 'light@test.com';
    page.querySelector('#wc-first').shadowRoot.querySelector('input').value = 'Lux';
    const done = c.queued();
    form.requestSubmit();
    deepEqual(c.captures[0].upsert.attributes, { vuid: c.idc.vuid, first_name: 'Lux', email: 'light@test.com' });
    await done;
  });

  it('the email change inside a shadow root captures too, once the root is known', async () => {
    const page = await mount('web-components');
    defineWebComponents();
    const c = client();
    const input = page.querySelector('#wc-signup').shadowRoot.querySelector('input[type=email]');
    input.focus();
    await sendKeys({ type: 'typed-shadow@test.com' });
    const done = c.queued();
    input.blur();
    deepEqual(c.captures.map((x) => x.upsert.attributes.email), ['typed-shadow@test.com']);
    await done;
  });

  it('nothing inside data-idcapture-ignore is captured, in the light DOM or behind a shadow host', async () => {
    const page = await mount('ignored');
    await mount('web-components');
    defineWebComponents();
    const c = client();
    fill(page, { '[name=friend_email]': 'friend@test.com', '[name=friend_name]': 'Pal' });
    page.querySelector('#share-form').requestSubmit();
    const ignoredShadow = document.querySelector('#wc-ignored').shadowRoot;
    ignoredShadow.querySelector('input[type=email]').focus();
    fill(ignoredShadow, { 'input[type=email]': 'hidden-friend@test.com' });
    ignoredShadow.querySelector('form').requestSubmit();
    equal(c.captures.length, 0, 'ignored forms:');
    // In a captured form, an ignored field is left out.
    fill(page, { '#gift-form [name=email]': 'giver@test.com', '[name=recipient_email]': 'recipient@test.com' });
    await submitCaptures(c, page.querySelector('#gift-form'), { email: 'giver@test.com' });
  });

  it('a form without an identifier produces nothing (a search or store-locator form)', async () => {
    const c = client();
    const form = mountForm(
      '<input name="q" value="red shoes"><input name="zip" value="02101"><input name="first_name" value="X">',
    );
    form.requestSubmit();
    equal(c.captures.length, 0);
  });

  it('a phone with fewer than 7 digits is dropped, however long the punctuation around it', async () => {
    const c = client();
    const form = mountForm(
      '<input type="email" name="email" value="digits@test.com"><input name="phone" value="(((((((">' +
      '<input name="mobile" value="(555) 1"><input type="tel" name="tel" value="+1 (555) 123-4567">',
    );
    await submitCaptures(c, form, { email: 'digits@test.com', phone: '+1 (555) 123-4567' });
  });

  it('a value that breaks the profile rules drops that field only', async () => {
    const c = client();
    const form = mountForm(
      '<input type="email" name="email" value="ok@test.com"><input name="phone" value="call me maybe">' +
      `<input name="first_name" value="${'x'.repeat(1100)}"><input name="last_name" value="Kept">` +
      '<input data-idcapture="Bad Name" value="v"><input data-idcapture="emails" value="a@b.co">' +
      '<input autocomplete="bday-year" value="nineteen"><input autocomplete="bday-month" value="07">',
    );
    await submitCaptures(c, form, { last_name: 'Kept', dob_month: 7, email: 'ok@test.com' });
  });
});

describe('auto-capture: options', () => {
  before(() => addEventListener('submit', stay));
  after(() => removeEventListener('submit', stay));
  afterEach(() => {
    clients.forEach((c) => c.destroy());
    mounted.forEach((m) => m.remove());
    clients = [];
    mounted = [];
    localStorage.clear();
  });

  it('autocapture: false listens to nothing', async () => {
    const page = await mount('shopify-newsletter');
    const c = client({ autocapture: false });
    fill(page, { '[name="contact[email]"]': 'off@test.com' });
    page.querySelector('form').requestSubmit();
    equal(c.captures.length, 0);
  });

  it('forms: limits capture to the forms matching or inside a selector', async () => {
    const [newsletter, login] = [await mount('shopify-newsletter'), await mount('login')];
    const c = client({ autocapture: { forms: '#ContactFooter' } });
    fill(login, { '#CustomerEmail': 'login@test.com' });
    login.querySelector('form').requestSubmit();
    equal(c.captures.length, 0, 'outside the selector:');
    fill(newsletter, { '[name="contact[email]"]': 'in@test.com' });
    await submitCaptures(c, newsletter.querySelector('form'), { email: 'in@test.com' });
  });

  it('fields: your own mappings by name or selector come before the table', async () => {
    const c = client({ autocapture: { fields: { loyalty: 'loyalty_id', '.nick': 'nickname', billing_city: 'town' } } });
    const form = mountForm(
      '<input name="loyalty" value="L-42"><input class="nick" name="x" value="JZ">' +
      '<input name="billing_city" value="Boston"><input type="email" name="email" value="mapped@test.com">',
    );
    await submitCaptures(c, form, { nickname: 'JZ', town: 'Boston', loyalty_id: 'L-42', email: 'mapped@test.com' });
  });

  it('a custom identifier from data-idcapture is enough on its own', async () => {
    const c = client();
    const form = mountForm(
      '<input name="member" data-idcapture="member_id" value="M-1"><input name="first_name" value="Mo">',
    );
    await submitCaptures(c, form, { first_name: 'Mo', member_id: 'M-1' });
  });

  it('data-idcapture on a field names its profile field, whatever the heuristics would say', async () => {
    const c = client();
    const form = mountForm(
      '<input name="city" data-idcapture="customer_id" value="C-7"><input type="email" name="email" value="tagged@test.com">',
    );
    await submitCaptures(c, form, { customer_id: 'C-7', email: 'tagged@test.com' });
  });

  it("a numeric <select> keeps its value when the page mapped it, or when it is an identifier; the table's gets the text", async () => {
    const c = client({ autocapture: { fields: { size_code: 'size_code' } } });
    const select = (attrs, n, text) => `<select ${attrs}><option value="${n}" selected>${text}</option></select>`;
    const form = mountForm(
      '<input type="email" name="email" value="select@test.com">' +
      select('data-idcapture="store_id"', 3, 'Downtown') +
      select('name="size_code"', 12, 'Large') +
      select('data-idcapture="customer_id"', 77, 'Jo') +
      select('name="region_id" autocomplete="address-level1"', 12, 'California'),
    );
    await submitCaptures(c, form, { size_code: '12', state: 'California', email: 'select@test.com', store_id: '3', customer_id: '77' });
  });

  it('rejects a malformed autocapture option with a TypeError naming it', () => {
    for (const autocapture of [7, 'yes', { forms: '##' }, { forms: 7 }, { fields: { a: 'Not A Name' } }]) {
      let error;
      try {
        createIdCapture({ endpoint: '/unavailable/bad-option', autocapture });
      } catch (e) {
        error = e;
      }
      assert(error instanceof TypeError && error.message.includes('autocapture'), `${JSON.stringify(autocapture)}: ${error}`);
    }
  });

  it('debug logs each classification decision', async () => {
    const page = await mount('payment');
    const c = client({ debug: true });
    fill(page, { '#pay-email': 'debug@test.com', '#cc-number': '4242424242424242', '#pay-phone': '4242424242424242' });
    const logs = await capturingConsole('log', async () => {
      const done = c.queued();
      page.querySelector('form').requestSubmit();
      await done;
    });
    const lines = logs.map((args) => args.slice(1).join(' '));
    for (const expected of [
      'field receipt_email → email (autocomplete)',
      'field cardnumber skipped: autocomplete cc-number',
      'field security_code skipped: secret name',
      'field phone skipped: card number',
      'field billing_zip skipped: empty',
    ]) {
      assert(lines.includes(expected), `"${expected}" not in ${JSON.stringify(lines)}`);
    }
  });

  it('stops listening on destroy(), on the shadow roots it found too', async () => {
    const page = await mount('shopify-newsletter');
    const components = await mount('web-components');
    defineWebComponents();
    const c = client();
    const signup = components.querySelector('#wc-signup').shadowRoot;
    signup.querySelector('input[type=email]').focus();
    c.idc.destroy();
    fill(page, { '[name="contact[email]"]': 'gone@test.com' });
    page.querySelector('form').requestSubmit();
    fill(signup, { 'input[type=email]': 'shadow-gone@test.com' });
    signup.querySelector('form').requestSubmit();
    equal(c.captures.length, 0);
  });
});

function defineWebComponents() {
  if (customElements.get('newsletter-signup')) return;
  customElements.define(
    'newsletter-signup',
    class extends HTMLElement {
      connectedCallback() {
        this.attachShadow({ mode: 'open' }).innerHTML =
          '<form action="/subscribe"><label>Email <input type="email" name="email" autocomplete="email"></label>' +
          '<label>First name <input name="first_name"></label><button>Subscribe</button></form>';
        // Submit does not leave the shadow tree, so the window's listener cannot keep this page from navigating.
        this.shadowRoot.querySelector('form').addEventListener('submit', stay);
      }
    },
  );
  customElements.define(
    'text-field',
    class extends HTMLElement {
      connectedCallback() {
        const { type, name, label } = this.dataset;
        this.attachShadow({ mode: 'open' }).innerHTML = `<label>${label} <input type="${type}" name="${name}"></label>`;
      }
    },
  );
}
