// The coalescer's memory bound as a unit: requests are admitted under the record and byte caps, and past half the
// record cap an IP may hold only its share of that half. (proxy-coalesce.test.js shows the same through the proxy.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importSource } from './helpers/bundle.js';

const { createBacklog } = await importSource('proxy/backlog');

test('requests are admitted up to the record cap and the byte cap, and released', () => {
  // Under half the record cap, so only the caps decide.
  const backlog = createBacklog(100, 1000);
  assert.equal(backlog.admit('a', 20, 100), true);
  assert.equal(backlog.admit('b', 20, 100), true);
  assert.equal(backlog.admit('c', 61, 100), false, 'over the record cap (and so over any share of it)');
  assert.equal(backlog.admit('c', 1, 801), false, 'over the byte cap');
  assert.deepEqual(backlog.held, { records: 40, bytes: 200, requests: 2 });
  backlog.release('a', 20, 100);
  assert.deepEqual(backlog.held, { records: 20, bytes: 100, requests: 1 });
  assert.equal(backlog.admit('c', 1, 800), true, 'the bytes released are free again');
});

test('past half the record cap, an IP may hold only its share of that half', () => {
  const backlog = createBacklog(100, 1e9);
  assert.equal(backlog.admit('flood', 50, 1), true, 'up to half, anyone');
  // Two IPs active: a share of the half is 25 records, and the flooding IP holds 50 already.
  assert.equal(backlog.admit('flood', 1, 1), false);
  assert.equal(backlog.admit('newcomer', 20, 1), true);
  assert.equal(backlog.admit('newcomer', 10, 1), false, '30 would be over its share of 25');
});

test('a request cap (coalesce: false, one upstream request each) counts browser requests, whatever their size', () => {
  const backlog = createBacklog(1000, 1e9, 2);
  assert.equal(backlog.admit('a', 1, 10), true);
  assert.equal(backlog.admit('b', 1, 10), true);
  assert.equal(backlog.admit('c', 1, 10), false, 'a third request is over the cap of two');
  backlog.release('a', 1, 10);
  assert.equal(backlog.admit('c', 1, 10), true);
});
