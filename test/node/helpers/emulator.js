// Shared by the emulator tests: one server per file on 127.0.0.1, and small request helpers.
import { after, before, beforeEach } from 'node:test';
import { startEmulator } from '../../../dist/emulator.js';

export const KEY = 'example.apiKey';

/** A vuid (32 lowercase hex characters) made from a number, so tests can name visitors 1, 2, 3. */
export const vuid = (n) => n.toString(16).padStart(32, '0');

/**
 * Starts one emulator for the calling test file (reset before each test, closed after the file) and returns a
 * handle whose `url` and `emulator` are filled in once it has started.
 */
export function useEmulator(options = {}) {
  const handle = { url: '', root: '', emulator: undefined };
  let running;
  before(async () => {
    running = await startEmulator(options);
    Object.assign(handle, { url: running.url, root: running.url.replace(/\/v3$/, ''), emulator: running.emulator });
  });
  beforeEach(() => running.emulator.reset());
  after(() => running.close());
  return handle;
}

/** POSTs `body` (JSON-encoded unless a string) to `<url>/profiles`; `key: null` sends no key. */
export function post(url, body, { key = KEY, headers = {} } = {}) {
  return fetch(`${url}/profiles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { 'x-api-key': key }), ...headers },
    body: typeof body == 'string' ? body : JSON.stringify(body),
  });
}

/** GETs `<url>/profiles?<query>`; `key: null` sends no key. */
export function get(url, query, { key = KEY } = {}) {
  return fetch(`${url}/profiles?${query}`, { headers: key ? { 'x-api-key': key } : {} });
}

/** The attributes of the profile holding `query` (e.g. `email=a@b.co`), or undefined on 404. */
export async function profile(url, query) {
  const response = await get(url, query);
  if (response.status == 404) return;
  if (response.status != 200) throw new Error(`GET ${query}: ${response.status} ${await response.text()}`);
  return (await response.json()).attributes;
}

/** POSTs and insists on a 202, so a setup step cannot fail silently. */
export async function upsert(url, ...records) {
  const response = await post(url, records.map((attributes) => ({ attributes })));
  if (response.status != 202) throw new Error(`POST: ${response.status} ${await response.text()}`);
}

export const ISO_WITH_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
