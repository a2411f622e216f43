import { VERBOSE } from '../verbose';

/** A form control auto-capture can read. */
export type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/**
 * The classification table, first row that matches wins. Each row: the profile field, the `autocomplete` tokens
 * that mean it (WHATWG autofill field names), and the words that mean it in a field's name, id, label, aria-label
 * and placeholder, read together as lower-case words (`customer[first_name]`, `billing_first_name` and
 * `firstNameInput` all read "… first name …"). Rows are ordered so nested names stay right: Shopify's
 * `checkout[shipping_address][city]` is a city, so the bare "address" of street1 comes last. Platforms covered:
 * Shopify (`customer[email]`, `contact[email]`, `address1`), WooCommerce (`billing_*`, `billing_address_2`), Magento
 * (`firstname`, `telephone`, `street[]` with ids `street_1`/`street_2`, `postcode`, `region_id`), BigCommerce
 * (`addressLine1Input`, `postCodeInput`, `provinceCodeInput`) and generic forms (`fname`, `lname`, `zip`, `mobile`).
 */
const TABLE: [field: string, autocomplete: string, words?: RegExp][] = [
  ['email', 'email', /\be ?mail/],
  ['first_name', 'given-name', /\b(first|given|fore) ?name|\bfname\b/],
  ['last_name', 'family-name', /\b(last|family|sur) ?name|\blname\b/],
  ['phone', 'tel tel-national', /\b(tel(ephone|\b)|phone|mobile|cell(phone|\b))/],
  ['street2', 'address-line2', /\b(addr(ess)? ?(line)? ?2|street ?2|apt|apartment|suite)\b/],
  ['city', 'address-level2', /\b(city|town|locality|suburb)\b/],
  ['country', 'country country-name', /\bcountry/],
  ['state', 'address-level1', /\b(state|province|region|county)\b/],
  ['zip', 'postal-code', /\b(zip|postal|(post|pin) ?code)/],
  ['dob_day', 'bday-day'],
  ['dob_month', 'bday-month'],
  ['dob_year', 'bday-year'],
  ['gender', 'sex', /\b(gender|sex)\b/],
  ['street1', 'street-address address-line1', /\baddr(ess)?( ?(line)? ?1)?\b|\bstreet/],
];

/** Autofill tokens of secrets and payment data: never read. */
const SECRET_AUTOCOMPLETE = /^(cc-|one-time-code|(current|new)-password)/;
/** Names and ids that suggest a secret; checked word by word so `shipping` or `pincode` is not a `pin`. */
const SECRET_NAME = /\b(pass|pwd?\b|pin\b|cvv|cvc|csc|ssn|iban|token|secret|otp\b|card|cc\b|security ?code)/;
const NEVER_TYPE = /^(password|hidden|file|checkbox|submit|button|reset|image)$/;

/** `billing_firstName[0]` → `billing first name 0`. */
const words = (text: string) =>
  text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().replace(/[^a-z0-9]+/g, ' ');

/** Whether `el`, or a host of the shadow roots it sits in, is inside `[data-idcapture-ignore]`. */
const ignored = (el: Element | undefined): boolean =>
  !!el && (!!el.closest('[data-idcapture-ignore]') || ignored((el.getRootNode() as ShadowRoot).host));

/** The profile field the page's own mappings give a control, if any. */
export type FieldMapper = (el: Field) => string | undefined;

/** The mapper of the `fields` option (`{ '<selector or name>': '<field>' }`): first key that names or matches wins. */
export const mapFields =
  (fields: Record<string, string>): FieldMapper =>
  (el) => {
    for (const key in fields) {
      try {
        if (el.name == key || el.matches(key)) return fields[key];
      } catch {}
    }
  };

/**
 * The profile field `el` holds, or why it is skipped: `[field, how]` with `how` one of data-idcapture, fields,
 * autocomplete, type, name (the heuristics), or `[undefined, reason]`. `mapField` holds the page's own mappings (the
 * script tag, which has none, passes nothing).
 */
export function classifyField(el: Field, mapField?: FieldMapper): [field: string | undefined, how: string] {
  const type = el.type;
  const tokens = (el.getAttribute('autocomplete') ?? '').toLowerCase().split(/\s+/);
  if (NEVER_TYPE.test(type)) return [, type];
  if (tokens.some((t) => SECRET_AUTOCOMPLETE.test(t))) return [, VERBOSE ? 'autocomplete ' + tokens.join(' ') : '-'];
  if (SECRET_NAME.test(words(el.name + ' ' + el.id))) return [, VERBOSE ? 'secret name' : '-'];
  if (ignored(el)) return [, VERBOSE ? 'ignored' : '-'];
  const explicit = el.dataset.idcapture;
  if (explicit) return [explicit, 'data-idcapture'];
  const mapped = mapField?.(el);
  if (mapped) return [mapped, 'fields'];
  const row = TABLE.find(([, autocomplete]) => tokens.some((t) => autocomplete.split(' ').includes(t)));
  if (row) return [row[0], 'autocomplete'];
  if (type == 'email' || type == 'tel') return [type == 'tel' ? 'phone' : type, 'type'];
  // Null only for type=hidden, which never gets here.
  const labels = [...el.labels!].map((l) => l.textContent);
  const text = words([el.name, el.id, ...labels, el.getAttribute('aria-label'), el.getAttribute('placeholder')].join(' '));
  const found = TABLE.find(([, , heuristic]) => heuristic?.test(text))?.[0];
  return [found, found ? 'name' : VERBOSE ? 'unrecognised' : '-'];
}

/** Card numbers: 13–19 digits (spaces and dashes aside) that pass the Luhn check. */
export const isCardNumber = (value: string): boolean => {
  const digits = value.replace(/[\s-]/g, '');
  // Luhn: from the right, every second digit counts doubled, less 9 when that is over 9 (0246813579 for 0 to 9).
  return (
    /^\d{13,19}$/.test(digits) &&
    [...digits].reverse().reduce((sum, d, i) => sum + +(i % 2 ? '0246813579'[+d] : d), 0) % 10 == 0
  );
};
