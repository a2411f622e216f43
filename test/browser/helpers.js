import { createStore, values } from 'idb-keyval';

/** A fresh endpoint per test, so each test gets its own IndexedDB queue. */
// The endpoint answers 503 with Retry-After: 3600, so delivery backs off and leaves the queue to the test.
export const uniqueEndpoint = () => `/unavailable/${Math.random().toString(36).slice(2)}`;

/** The records a client's queue holds, read straight from IndexedDB, oldest first. */
export const storedRecords = (endpoint) => values(createStore(`idcapture:${endpoint}`, 'queue'));

export const cookieValue = (name) =>
  document.cookie
    .split('; ')
    .find((c) => c.startsWith(name + '='))
    ?.slice(name.length + 1);

export function clearIdentity(name = 'vuid') {
  document.cookie = `${name}=; Path=/; Max-Age=0`;
  localStorage.removeItem(name);
}

/** Captures console[method] calls while `fn` runs. */
export async function capturingConsole(method, fn) {
  const calls = [];
  const original = console[method];
  console[method] = (...args) => calls.push(args);
  try {
    await fn();
  } finally {
    console[method] = original;
  }
  return calls;
}
