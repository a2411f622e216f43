import { checkField, isIdentifier, type FieldValue } from '../profile/rules';
import { attempt } from './attempt';
import { classifyField, isCardNumber, type Field, type FieldMapper } from './classify-field';
import type { Attributes, Identifiers } from './upsert';
import { VERBOSE } from '../verbose';

/** Where auto-capture looks. */
export interface AutocaptureOptions {
  /** Only forms (and stray email fields) matching or inside this selector are captured. Default: all. */
  forms?: string;
  /**
   * Your own mappings, tried before the built-in table: a field's `name` or a selector, to a profile field, e.g.
   * `{ 'loyalty-no': 'loyalty_id', '#signup .nick': 'nickname' }`. Default none.
   */
  fields?: Record<string, string>;
}

/** Auto-capture as the client runs it: the `fields` option is a mapper by now, absent when the page maps nothing. */
export interface ResolvedAutocapture {
  forms: string;
  mapField?: FieldMapper;
}

interface CaptureOptions extends ResolvedAutocapture {
  vuid: () => string;
  /** Hands one capture over; returns false when it is not taken (consent denied). It must not throw. */
  capture: (identifiers: Identifiers, attributes: Attributes, form: HTMLFormElement | null) => boolean;
  log: (...args: unknown[]) => void;
  /** Aborts when the client is destroyed: every listener goes. */
  signal: AbortSignal;
}

const FIELDS = 'input,select,textarea';
/** Digits with the usual punctuation, at least 7 of them digits. */
const PHONE = /^\+?([\s().\/-]*\d){7}[\d\s().\/-]*$/;

/** The controls under `root`, through the open shadow roots of the elements inside it. */
const controls = (root: ParentNode): Field[] =>
  [...root.querySelectorAll('*')].flatMap((el) =>
    el.shadowRoot ? controls(el.shadowRoot) : el.matches(FIELDS) ? [el as Field] : [],
  );

/**
 * Form auto-capture: listeners delegated at the document in the capture phase (so forms added later, and forms
 * whose own handlers call preventDefault, are seen) and on each open shadow root a focus enters, since `submit` and
 * `change` do not leave shadow trees. On submit, the form's classified fields become one capture; on change of a
 * field holding a complete valid email, its form's (or the lone field's) do. Handlers only classify and hand over.
 * Every listener goes when `options.signal` aborts.
 */
export function startCapture(options: CaptureOptions) {
  // The last capture of this page, by its JSON. Only this page's: the same form sent again on a later page is sent
  // again, since the visitor restating a value is newer than whatever another device wrote in between.
  let last: string;
  // One signal removes every listener: nothing here holds on to a shadow root the page has dropped.
  const listenerOptions = { capture: true, signal: options.signal };

  /** The capture `fields` make, or nothing without an identifier (email, phone, a `data-idcapture="customer_id"`). */
  const read = (fields: Field[], form: HTMLFormElement | null) => {
    const identifiers: Identifiers = {};
    const attributes: Attributes = {};
    for (const el of fields) {
      const [field, how] = classifyField(el, options.mapField);
      let value: FieldValue = el.value.trim();
      if (field?.startsWith('dob_')) value = value && +value;
      // A numeric <select> value the table recognised is a platform's internal id (Magento's region_id, gender): its
      // text is the value. One the page mapped itself, or an identifier, is meant as it is.
      else if (el.tagName == 'SELECT' && /^\d+$/.test(value) && (how == 'autocomplete' || how == 'name') && !isIdentifier(field!)) {
        value = (el as HTMLSelectElement).selectedOptions[0].text.trim();
      }
      const skip = !field
        ? how
        : (el.type == 'radio' && !(el as HTMLInputElement).checked) || value === ''
          ? VERBOSE ? 'empty' : '-'
          : typeof value == 'string' && isCardNumber(value)
            ? VERBOSE ? 'card number' : '-'
            : field in identifiers || field in attributes
              ? VERBOSE ? 'already set' : '-'
              : field == 'phone' && !PHONE.test(value as string)
                ? VERBOSE ? 'not a phone number' : '-'
                : checkField(field, value);
      if (VERBOSE) options.log('field', el.name || el.id, skip ? `skipped: ${skip}` : `→ ${field} (${how})`);
      if (!skip) (isIdentifier(field!) ? identifiers : attributes)[field!] = value as string;
    }
    if (!Object.keys(identifiers).length) {
      if (VERBOSE) options.log('not captured: no identifier', form);
      return;
    }
    const print = JSON.stringify([options.vuid(), identifiers, attributes]);
    if (print == last) {
      if (VERBOSE) options.log('not captured: same as the last', form);
      return;
    }
    if (options.capture(identifiers, attributes, form)) last = print;
  };

  const inScope = (el: Element) => !options.forms || attempt(() => el.closest(options.forms));

  const onSubmit = (e: Event) => {
    const form = e.composedPath()[0] as HTMLFormElement;
    if (inScope(form)) read(controls(form), form);
  };
  const onChange = (e: Event) => {
    const el = e.composedPath()[0] as Field;
    if (!el.matches?.(FIELDS) || classifyField(el, options.mapField)[0] != 'email' || checkField('email', el.value.trim())) return;
    const form = el.form;
    if (inScope(form ?? el)) read(form ? controls(form) : [el], form);
  };
  const listen = (target: Node) => {
    target.addEventListener('submit', onSubmit, listenerOptions);
    target.addEventListener('change', onChange, listenerOptions);
  };
  listen(document);
  // focusin is composed: its path names the shadow roots a field sits in, before the user can change or submit it.
  // A root already listened to is left as it is: the same listener is never added twice.
  document.addEventListener(
    'focusin',
    (e) => {
      for (const node of e.composedPath()) if (node instanceof ShadowRoot) listen(node);
    },
    listenerOptions,
  );
}
