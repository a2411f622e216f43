// The pace of upstream requests (src/upstream/pacer.ts) on a clock the test moves: slots on a grid, so a request that
// takes its slot a little late does not push every later one back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPacer } from '../../dist/test/node-internals.js';
import { manualClock } from './helpers/clocks.js';

/** A pacer at 8/s (a slot every 125 ms) and the times its takes resolved at. */
function paced() {
  const clock = manualClock(0);
  const pacer = createPacer(8, clock);
  const starts = [];
  const take = () => pacer.take().then(() => starts.push(clock.now()));
  return { clock, take, starts };
}

test('a slot taken up to a tenth of an interval late leaves the next slot where it was', async () => {
  const { clock, take, starts } = paced();
  await take();
  // Slot 2 is due at 125 and taken at 137 (12 ms late): slot 3 stays at 250, 113 ms on, not 137 + 125.
  await clock.advance(137);
  await take();
  const third = take();
  await clock.advance(200);
  await third;
  assert.deepEqual(starts, [0, 137, 250]);
});

test('a slot taken later than that starts the grid again from then: never two requests closer than 0.9 interval', async () => {
  const { clock, take, starts } = paced();
  await take();
  // 13 ms late: past the tenth (12.5 ms), so the next slot is a whole interval on.
  await clock.advance(138);
  await take();
  const third = take();
  await clock.advance(200);
  await third;
  assert.deepEqual(starts, [0, 138, 263]);
});

test('takes waiting at once leave one interval apart, in the order asked', async () => {
  const { clock, take, starts } = paced();
  await take();
  const waiting = Promise.all([take(), take()]);
  await clock.advance(1000);
  await waiting;
  assert.deepEqual(starts, [0, 125, 250]);
});
