// Collects every answer and log entry a suite sees, to assert at the end that the API key never leaked, whole or in part.
import assert from 'node:assert/strict';

/** A key made of characters no answer or log entry would otherwise contain in this order. */
export const API_KEY = 'zk9.Qv7pW2xR4mT8-sN3bL6';

/** Every 6-character window of the key: "any part of it". */
const parts = [...Array(API_KEY.length - 5).keys()].map((i) => API_KEY.slice(i, i + 6));

export function keyWatch() {
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
