// Minimal assertions for the browser suites (the runner ships none and chai would be one more dependency).
const show = (v) => JSON.stringify(v);

export function assert(condition, message = 'assertion failed') {
  if (!condition) throw new Error(message);
}

export function equal(actual, expected, message = '') {
  if (!Object.is(actual, expected)) throw new Error(`${message} expected ${show(expected)}, got ${show(actual)}`);
}

export function deepEqual(actual, expected, message = '') {
  if (show(actual) !== show(expected)) throw new Error(`${message} expected ${show(expected)}, got ${show(actual)}`);
}

/** Awaits `promise` and checks it rejected with an instance of `type` whose properties include `props`. */
export async function rejects(promise, type, props = {}) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert(error, `expected a rejection with ${type.name}, but it resolved`);
  assert(error instanceof type, `expected ${type.name}, got ${error && error.name}: ${error && error.message}`);
  for (const [k, v] of Object.entries(props)) equal(error[k], v, `${type.name}.${k}:`);
  return error;
}
