import { createStore, values } from 'idb-keyval';

/** A fresh endpoint per test, so each test gets its own IndexedDB queue. */
/**
 * A fresh endpoint per test, so each test gets its own queue. Its flush lock is held for the page's life, so no
 * delivery touches the queue while the test inspects it (and the path answers 503 should one ever be tried).
 */
export function uniqueEndpoint() {
  const endpoint = `/unavailable/${Math.random().toString(36).slice(2)}`;
  navigator.locks.request(`idcapture:${endpoint}`, () => new Promise(() => {}));
  return endpoint;
}

/** The records a client's queue holds, read straight from IndexedDB, oldest first (the id counter left out). */
export const storedRecords = async (endpoint) =>
  (await values(createStore(`idcapture:${endpoint}`, 'queue'))).filter((value) => typeof value == 'object');

/** Holds the flush lock of `endpoint` until the returned function is called: scheduled flushes skip meanwhile. */
export async function holdQueue(endpoint) {
  let release;
  const released = new Promise((resolve) => (release = resolve));
  await new Promise((held) => navigator.locks.request(`idcapture:${endpoint}`, () => (held(), released)));
  return release;
}

/** Resolves once a request for the Web Lock `name` waits behind its holder (polled: the lock API has no event). */
export async function lockRequested(name) {
  while (!(await navigator.locks.query()).pending.some((lock) => lock.name == name)) await new Promise((resolve) => setTimeout(resolve));
}

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
