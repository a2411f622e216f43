/** Failures the emulator injects into `/v3` requests, so clients can be tested against a misbehaving API. */
export interface Faults {
  /** Share of requests answered 500 or 503 (even odds) without being applied, 0 to 1. Default 0. */
  errorRate?: number;
  /** Latency added before every answer, in ms: a fixed number or `[min, max]` drawn uniformly. Default 0. */
  latencyMs?: number | [number, number];
  /** Share of requests that start a burst of 429 answers, 0 to 1. Default 0. */
  burstRate?: number;
  /** Consecutive requests answered 429 by one burst, the first included. Default 5. */
  burstLength?: number;
  /** Share of requests whose connection is dropped without any answer, 0 to 1. Default 0. */
  dropRate?: number;
  /** Seed of the fault sequence: the same seed and the same requests give the same faults. Default 1. */
  seed?: number;
}

/** What happens to one request instead of (or before) being served. */
interface FaultDecision {
  latencyMs: number;
  /** An injected answer, `'drop'` to close the connection, or undefined to serve the request. */
  outcome?: 500 | 503 | 429 | 'drop';
}

const rate = (faults: Faults, name: 'errorRate' | 'burstRate' | 'dropRate') => {
  const value = faults[name] ?? 0;
  if (typeof value != 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`idcapture emulator: option faults.${name} must be a number from 0 to 1`);
  }
  return value;
};

const nonNegative = (name: string, value: unknown) => {
  if (typeof value != 'number' || !(value >= 0 && value < Infinity)) {
    throw new RangeError(`idcapture emulator: option faults.${name} must be a finite number of at least 0`);
  }
  return value;
};

/** Checks `faults` and fills in the defaults; throws a TypeError or RangeError naming the bad field. */
function resolveFaults(faults: Faults = {}): Required<Faults> & { latencyMs: [number, number] } {
  if (typeof faults != 'object' || !faults || Array.isArray(faults)) {
    throw new TypeError('idcapture emulator: option faults must be an object');
  }
  const latency = faults.latencyMs ?? 0;
  const [min, max] = Array.isArray(latency) ? latency : [latency, latency];
  nonNegative('latencyMs', min);
  if (nonNegative('latencyMs', max) < min) {
    throw new RangeError('idcapture emulator: option faults.latencyMs must be [min, max]');
  }
  const burstLength = faults.burstLength ?? 5;
  if (!Number.isInteger(burstLength) || burstLength < 1) {
    throw new RangeError('idcapture emulator: option faults.burstLength must be a positive integer');
  }
  const seed = faults.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError('idcapture emulator: option faults.seed must be an integer');
  return {
    errorRate: rate(faults, 'errorRate'),
    latencyMs: [min, max],
    burstRate: rate(faults, 'burstRate'),
    burstLength,
    dropRate: rate(faults, 'dropRate'),
    seed,
  };
}

/** mulberry32: tiny, fast and good enough to spread faults; what matters here is that a seed replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded source of fault decisions, one per request, restarted from its seed whenever the faults change. */
export class FaultPlan {
  private config: ReturnType<typeof resolveFaults>;
  private next: () => number;
  private burstLeft = 0;

  constructor(faults?: Faults) {
    this.config = resolveFaults(faults);
    this.next = random(this.config.seed);
  }

  /** The faults in force, defaults filled in. */
  get faults(): Required<Faults> {
    const [min, max] = this.config.latencyMs;
    return { ...this.config, latencyMs: [min, max] };
  }

  decide(): FaultDecision {
    const { errorRate, latencyMs, burstRate, burstLength, dropRate } = this.config;
    // Always five draws, whichever branch is taken, so one request's fault never shifts the next one's.
    const [r0, r1, r2, r3, r4] = [this.next(), this.next(), this.next(), this.next(), this.next()];
    const decision: FaultDecision = { latencyMs: Math.round(latencyMs[0] + r0 * (latencyMs[1] - latencyMs[0])) };
    if (this.burstLeft > 0) {
      this.burstLeft--;
      decision.outcome = 429;
    } else if (r1 < dropRate) decision.outcome = 'drop';
    else if (r2 < errorRate) decision.outcome = r3 < 0.5 ? 500 : 503;
    else if (r4 < burstRate) {
      this.burstLeft = burstLength - 1;
      decision.outcome = 429;
    }
    return decision;
  }
}
