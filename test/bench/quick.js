// BENCH_QUICK=1 runs every bench part with a token count of everything (requests, rounds, seconds), so CI can check
// that each part still runs and ends, in seconds, without measuring anything worth reading. Not a bench part itself.
export const QUICK = process.env.BENCH_QUICK == '1';

/** `full` in a real bench run, `quick` under BENCH_QUICK=1. */
export const count = (full, quick) => (QUICK ? quick : full);
