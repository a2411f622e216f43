// The chaos runner's short, seeded configuration (test/chaos/run.js; `npm run test:chaos` is the long one): a few
// hundred upserts through the demo storefront under offline toggles, emulator faults, tabs closed mid-flush, reloads
// and one proxy restart, then nothing lost and the key in none of the bytes the browser received.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../chaos/run.js';

test('chaos, short seeded run: every last write arrives, the API key never reaches the browser', async () => {
  const result = await runChaos({ seed: 1414, people: 25, updates: 8, drainMs: 60_000 });
  console.log(result.line);
  assert.ok(result.upserts >= 200, `${result.upserts} upserts`);
  // The scenario did what it says: chaos happened, and the browser received pages, the bundle and proxy answers.
  for (const event of ['offline', 'online', 'proxy process restarted']) assert.ok(result.events.includes(event), `no "${event}" in ${result.events}`);
  assert.ok(result.events.some((e) => e.startsWith('faults: ')) && result.events.some((e) => e.startsWith('closed a tab')), String(result.events));
  assert.ok(result.responses > 50 && result.bytesReceived > 100_000, `${result.responses} responses, ${result.bytesReceived} bytes`);
  assert.deepEqual(result.keyHits, []);
  assert.equal(result.lost, 0, result.line);
  assert.ok(result.ok, result.line);
});
