/**
 * A clock the test moves by hand, for the client's internal `clock` (createClient's second argument, from
 * dist/test/internals.js): `now()` stands still until `advance(ms)`, which fires the timers that come due in order,
 * each at its own time, letting the promise callbacks they start run before the next. `random()` returns `random`,
 * which a test may set. Several clients of one page share a clock the way tabs share the wall clock.
 */
export function manualClock(start = Date.now()) {
  let now = start;
  let lastId = 0;
  const timers = new Map();
  let onTimer = () => {};
  const clock = {
    value: 0.5,
    now: () => now,
    random: () => clock.value,
    setTimeout(fn, ms = 0) {
      timers.set(++lastId, { at: now + Math.max(0, ms), fn });
      onTimer();
      return lastId;
    },
    clearTimeout: (id) => void timers.delete(id),
    /** The times (epoch ms) the planned timers are due at, soonest first. */
    due: () => [...timers.values()].map((t) => t.at).sort((a, b) => a - b),
    /** Resolves once a timer is planned (at once if one is). */
    planned: () => (timers.size ? Promise.resolve() : new Promise((resolve) => (onTimer = resolve))),
    /** Moves time on by `ms`, firing the timers that come due, in order; resolves with how many fired. */
    async advance(ms) {
      const end = now + ms;
      let fired = 0;
      for (;;) {
        const next = [...timers].filter(([, t]) => t.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        fired++;
        // What the timer started (a flush it planned, a retry) runs on before the next timer fires.
        await new Promise((resolve) => setTimeout(resolve));
      }
      now = end;
      return fired;
    },
  };
  return clock;
}
