// Clocks the tests move themselves, in the shape the proxy, the server client and the emulator take as `clock`:
// `now()` in ms and `sleep(ms, signal?)`. A deadline then fires when the test says so, never because a busy machine
// was slow.
import { setImmediate as turn } from 'node:timers/promises';

/** Pending sleeps, woken by due time (ties in the order they began), and waiters for a sleep to begin. */
function sleepers() {
  const pending = [];
  const watchers = [];
  let order = 0;
  const remove = (sleeper) => {
    const i = pending.indexOf(sleeper);
    if (i >= 0) pending.splice(i, 1);
  };
  return {
    pending,
    /** Adds a sleeper (none when `signal` has aborted: it wakes at once) and returns it. */
    add(at, ms, signal, wake) {
      if (signal?.aborted) return void wake();
      const sleeper = { at, ms, order: order++, wake };
      pending.push(sleeper);
      signal?.addEventListener('abort', () => this.wake(sleeper), { once: true });
      for (const watcher of [...watchers]) {
        if (watcher.which(ms)) {
          watchers.splice(watchers.indexOf(watcher), 1);
          watcher.resolve(ms);
        }
      }
      return sleeper;
    },
    /** Wakes `sleeper` unless it was woken already. */
    wake(sleeper) {
      if (!pending.includes(sleeper)) return;
      remove(sleeper);
      sleeper.wake();
    },
    /** The earliest sleeper due by `at`, taken out of the list. */
    due(at) {
      const next = pending.filter((s) => s.at <= at).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (next) remove(next);
      return next;
    },
    asleep(which) {
      const already = pending.find((s) => which(s.ms));
      if (already) return Promise.resolve(already.ms);
      return new Promise((resolve) => watchers.push({ which, resolve }));
    },
  };
}

/**
 * Time that stands still until `advance(ms)` moves it: each sleep due on the way is woken in order, and what it
 * starts runs (a turn of the event loop) before the next is woken, so the paces and deadlines it sets are kept too.
 */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  const list = sleepers();
  return {
    now: () => now,
    sleep: (ms, signal) => new Promise((wake) => list.add(now + ms, ms, signal, wake)),
    async advance(ms) {
      const until = now + ms;
      for (let sleeper = list.due(until); sleeper; sleeper = list.due(until)) {
        now = Math.max(now, sleeper.at);
        sleeper.wake();
        await turn();
      }
      now = until;
      await turn();
    },
    /** Resolves with the length of a sleep matching `which` once one is pending (at once if one is already). */
    asleep: (which = () => true) => list.asleep(which),
    /** Lengths of the sleeps not yet woken. */
    pending: () => list.pending.map((s) => s.ms),
  };
}

/**
 * Real time that the test can also jump forward with `jump(ms)`: short waits (a pace, a batching wait) pass on their
 * own, while a long deadline fires only when the test jumps past it.
 */
export function jumpClock() {
  let offset = 0;
  const now = () => Date.now() + offset;
  const list = sleepers();
  return {
    now,
    sleep(ms, signal) {
      return new Promise((wake) => {
        let timer;
        const sleeper = list.add(now() + ms, ms, signal, () => {
          clearTimeout(timer);
          wake();
        });
        if (sleeper) timer = setTimeout(() => list.wake(sleeper), ms);
      });
    },
    /** Moves time forward by `ms` at once, waking every sleep now due. */
    jump(ms) {
      offset += ms;
      for (let sleeper = list.due(now()); sleeper; sleeper = list.due(now())) sleeper.wake();
    },
  };
}
