// The coalescer's waiting room as a unit: batches are filled one request per client IP in turn, never past the record
// or byte cap, and a request that writes to an identity upstream now waits with its IP's later requests behind it.
// (proxy-coalesce.test.js shows the same through the proxy.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importSource } from './helpers/bundle.js';

const { createFairQueue } = await importSource('proxy/fair-queue');

const request = (name, ip, records = 1, keys = [`email\0${name}`]) => ({ name, ip, records: Array(records).fill({}), bytes: 10 * records, keys, answered: false });
const names = (batch) => batch.map((entry) => entry.name);

test('a batch takes one request per IP in turn, and the next batch starts after the last IP served', () => {
  const queue = createFairQueue(3, 1_000_000);
  for (const entry of [request('a1', 'A'), request('a2', 'A'), request('a3', 'A'), request('b1', 'B'), request('c1', 'C')]) queue.add(entry);
  assert.equal(queue.records(), 5);
  assert.deepEqual(names(queue.take([])), ['a1', 'b1', 'c1']);
  assert.deepEqual(names(queue.take([])), ['a2', 'a3']);
  assert.equal(queue.records(), 0);
});

test('a request that would bring a batch over the record or byte cap waits for the next, never split; smaller go first', () => {
  const queue = createFairQueue(5, 2 + 10 * 4);
  for (const entry of [request('big', 'A', 3), request('two', 'B', 2), request('one', 'C', 1)]) queue.add(entry);
  assert.deepEqual(names(queue.take([])), ['one', 'two'], 'big would bring the bytes over the cap');
  assert.deepEqual(names(queue.take([])), ['big']);
  const records = createFairQueue(2, 1_000_000);
  for (const entry of [request('a', 'A'), request('b', 'B'), request('c', 'C')]) records.add(entry);
  assert.deepEqual(names(records.take([])), ['a', 'b']);
});

test('small requests go first: a one-record request is in the next batch however many big ones wait (issue 22)', () => {
  const queue = createFairQueue(500, 1_000_000);
  for (let i = 0; i < 20; i++) queue.add(request(`flood${i}`, `F${i}`, 100));
  queue.add(request('bystander', 'B', 1));
  const first = names(queue.take([]));
  assert.equal(first[0], 'bystander');
  assert.equal(first.length, 5, 'the bystander and four 100-record requests: 401 records, a fifth would pass 500');
  assert.deepEqual(names(queue.take([])), ['flood4', 'flood5', 'flood6', 'flood7', 'flood8'], 'the big ones keep their round robin');
});

test('with a cap of one request per batch (coalesce: false), each batch is one browser request, in the same round robin', () => {
  const queue = createFairQueue(500, 1_000_000, 1);
  for (const entry of [request('a1', 'A'), request('a2', 'A'), request('b1', 'B')]) queue.add(entry);
  assert.deepEqual([names(queue.take([])), names(queue.take([])), names(queue.take([]))], [['a1'], ['b1'], ['a2']]);
  assert.equal(queue.records(), 0);
});

test('a request writing to a busy identity waits, and so do the later requests of its IP and of that identity', () => {
  const queue = createFairQueue(10, 1_000_000);
  queue.add(request('a1', 'A', 1, ['email\0x']));
  queue.add(request('a2', 'A', 1, ['email\0y']));
  queue.add(request('b1', 'B', 1, ['email\0x']));
  queue.add(request('c1', 'C', 1, ['email\0z']));
  assert.deepEqual(names(queue.take(['email\0x'])), ['c1'], 'a1 and b1 write to x, upstream now; a2 waits behind a1');
  // Once x is answered, both writes to it may share one batch, in the order they came.
  assert.deepEqual(names(queue.take([])), ['a1', 'b1', 'a2']);
});

test('requests answered while they waited are dropped, never taken', () => {
  const queue = createFairQueue(10, 1_000_000);
  const late = request('late', 'A');
  queue.add(late);
  queue.add(request('next', 'A'));
  late.answered = true;
  assert.deepEqual(names(queue.take([])), ['next']);
  assert.equal(queue.records(), 0);
});
