// Collects every answer and log entry a suite sees, to assert at the end that the API key never leaked, whole or in part.
import assert from 'node:assert/strict';

/** A key made of characters no answer or log entry would otherwise contain in this order. */
export const API_KEY = 'zk9.Qv7pW2xR4mT8-sN3bL6';

/** Watches for every `part`-character window of `key` ("any part of it"); by default for 6 of `API_KEY`. */
export function keyWatch(key = API_KEY, part = 6) {
  const parts = [...Array(key.length - part + 1).keys()].map((i) => key.slice(i, i + part));
  const seen = [];
  return {
    /** Records a response (status, every header, the body) and hands it back unread. */
    async response(response) {
      const body = await response.clone().text();
      seen.push(`${response.status}\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}`);
      return response;
    },
    /** Records raw text (a log entry, a raw HTTP answer). */
    text(text) {
      seen.push(text);
    },
    get count() {
      return seen.length;
    },
    assertClean() {
      for (const text of seen) {
        for (const part of parts) assert.ok(!text.includes(part), `the key leaked (${part}) in: ${text.slice(0, 300)}`);
      }
    },
  };
}
