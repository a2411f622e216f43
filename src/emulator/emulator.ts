import { isIdentifier, normalizeVuid } from '../profile/rules';
import { accepted, forbidden, json, message, problem, tooManyRequests } from './answers';
import { FaultPlan, type Faults } from './faults';
import { resolveOptions, type EmulatorOptions } from './options';
import { readBody, TOO_LARGE } from '../http/read-body';
import { parsePayload, UNPARSEABLE } from './payload';
import { PerKeyRequestLimit } from './request-limit';
import { ProfileStore, type ProfileView } from './store';

/** What the emulator has done since it started or was last reset. */
export interface EmulatorStats {
  /** `/v3` requests by HTTP status of the answer (`"dropped"` for connections closed without one). */
  requests: Record<string, number>;
  /** Upserts applied to the store. */
  recordsApplied: number;
  /** Upserts accepted (202) but not applied yet, while `applyDelayMs` holds them back. */
  pending: number;
  /** Profiles absorbed into another one by identity resolution. */
  merges: number;
  /** Profiles in the store. */
  profiles: number;
  /** With `unknownFields: 'drop'`: each undeclared field name → how many accepted records it was dropped from. */
  droppedFields: Record<string, number>;
}

/** A profiles API emulator, served by any Fetch-API server through `fetch`. */
export interface Emulator {
  /**
   * Answers one request: `/v3/profiles` and the `/__emulator/` inspection paths. A connection to drop without an
   * answer comes back as `Response.error()`.
   */
  fetch(request: Request): Promise<Response>;
  /** Every profile as `GET /v3/profiles` would show its attributes, oldest first. */
  profiles(): ProfileView[];
  stats(): EmulatorStats;
  /** Forgets profiles, counts, rate-limit state and pending upserts, and restores the faults given at creation. */
  reset(): void;
  /** Replaces the injected faults (`{}` turns them off) and restarts their sequence from the seed. */
  setFaults(faults: Faults): void;
}

const API = '/v3/profiles';
/** Names the undeclared fields left out of an accepted batch under `unknownFields: 'drop'`. */
const DROPPED_HEADER = 'x-emulator-dropped-fields';
const TIMED_OUT = Symbol('timed out');

/** Creates a profiles API emulator; see `EmulatorOptions` for the defaults. Throws on a bad option. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const config = resolveOptions(options);
  let faults = new FaultPlan(config.faults);
  const limiter = config.rateLimit === false ? undefined : new PerKeyRequestLimit(config.rateLimit, config.clock);
  let store = new ProfileStore(config.lowConfidence);
  let requests: Record<string, number> = {};
  /** One per batch waiting out `applyDelayMs`; aborting it forgets the batch. */
  let pending = new Set<AbortController>();
  let pendingRecords = 0;
  // No prototype: a dropped field may be named `constructor` or `to_string`.
  let droppedFields: Record<string, number> = Object.create(null);

  const count = (status: string) => (requests[status] = (requests[status] ?? 0) + 1);

  function apply(records: Parameters<ProfileStore['upsert']>[0][]) {
    if (!config.applyDelayMs) return records.forEach((r) => store.upsert(r));
    // Sleeps of equal length end in the order they began, so batches still apply in the order received.
    pendingRecords += records.length;
    const controller = new AbortController();
    pending.add(controller);
    void config.clock.sleep(config.applyDelayMs, controller.signal).then(() => {
      if (controller.signal.aborted) return;
      pending.delete(controller);
      pendingRecords -= records.length;
      records.forEach((r) => store.upsert(r));
    });
  }

  /**
   * The body, or TIMED_OUT when it has not all arrived within `bodyTimeoutMs`. The read left pending then ends when
   * the server closes the connection, which the 408's `connection: close` asks for.
   */
  async function readWithin(request: Request) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, config.bodyTimeoutMs, TIMED_OUT)));
    try {
      return await Promise.race([readBody(request, config.maxBodyBytes), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function post(request: Request, now: number): Promise<Response> {
    const body = await readWithin(request);
    if (body === TIMED_OUT) {
      const text = `Request body not received within ${config.bodyTimeoutMs} ms.`;
      return message(408, config.clock.now(), text, { connection: 'close' });
    }
    if (body === TOO_LARGE) return message(413, now, `Request body is larger than ${config.maxBodyBytes} bytes.`);
    if (!body) return message(400, now, UNPARSEABLE);
    const payload = parsePayload(body, config.maxBatch, config.known, config.dropUnknown);
    if ('message' in payload) return message(400, now, payload.message);
    if ('invalids' in payload) return problem(400, now, { invalids: payload.invalids });
    apply(payload.records);
    const dropped = payload.dropped.flat();
    for (const name of dropped) droppedFields[name] = (droppedFields[name] ?? 0) + 1;
    return accepted(now, dropped.length ? { [DROPPED_HEADER]: [...new Set(dropped)].join(', ') } : {});
  }

  function get(url: URL, now: number): Response {
    const params = [...url.searchParams];
    if (params.length != 1) return message(400, now, 'Exactly one identifier query parameter is required.');
    const [[name, value]] = params;
    if (name != 'zaius_id' && !(isIdentifier(name) && config.known(name))) {
      return message(400, now, `\`${name}\` is not an identifier.`);
    }
    if (!value) return message(400, now, `Identifier \`${name}\` has no value.`);
    const attributes = store.find(name, name == 'vuid' ? normalizeVuid(value) : value);
    return attributes ? json(200, { attributes }) : message(404, now, `Unable to find profile for ${name} = ${value}`);
  }

  async function api(request: Request, url: URL): Promise<Response> {
    const decision = faults.decide();
    if (decision.latencyMs) await config.clock.sleep(decision.latencyMs);
    const now = config.clock.now();
    // Injected failures come from "the infrastructure", before the key is even looked at, and change nothing.
    if (decision.outcome == 'drop') return Response.error();
    if (decision.outcome == 429) return tooManyRequests(1);
    if (decision.outcome) return message(decision.outcome, now, 'Injected fault.');
    const key = request.headers.get('x-api-key');
    if (key === null || !config.apiKeys.has(key)) return forbidden();
    const wait = limiter?.take(key);
    if (wait) return tooManyRequests(wait);
    if (url.pathname != API) return message(404, now, `No such path: ${url.pathname}`);
    if (request.method == 'POST') return post(request, now);
    if (request.method == 'GET') return get(url, now);
    return message(405, now, `Method ${request.method} is not allowed.`, { allow: 'GET, POST' });
  }

  function reset() {
    pending.forEach((controller) => controller.abort());
    pending = new Set();
    pendingRecords = 0;
    store = new ProfileStore(config.lowConfidence);
    requests = {};
    droppedFields = Object.create(null);
    limiter?.reset();
    faults = new FaultPlan(config.faults);
  }

  const stats = (): EmulatorStats => ({
    requests: { ...requests },
    ...store.counts,
    pending: pendingRecords,
    droppedFields: { ...droppedFields },
  });

  async function inspect(request: Request, path: string): Promise<Response> {
    const route = `${request.method} ${path}`;
    if (route == 'GET /__emulator/profiles') return json(200, store.all());
    if (route == 'GET /__emulator/stats') return json(200, stats());
    if (route == 'POST /__emulator/reset') return reset(), json(200, stats());
    if (route == 'GET /__emulator/faults') return json(200, faults.faults);
    if (route == 'POST /__emulator/faults') {
      try {
        faults = new FaultPlan(JSON.parse(await request.text()));
      } catch (error) {
        return message(400, config.clock.now(), error instanceof Error ? error.message : String(error));
      }
      return json(200, faults.faults);
    }
    return json(404, { message: 'Not Found' });
  }

  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname.startsWith('/__emulator/')) return inspect(request, url.pathname);
      if (!url.pathname.startsWith('/v3/')) return json(404, { message: 'Not Found' });
      let response: Response;
      try {
        response = await api(request, url);
      } catch {
        // Only reading the body can throw: the client went away or sent a broken stream.
        response = message(400, config.clock.now(), UNPARSEABLE);
      }
      count(response.type == 'error' ? 'dropped' : String(response.status));
      return response;
    },
    profiles: () => store.all(),
    stats,
    reset,
    setFaults(next) {
      faults = new FaultPlan(next);
    },
  };
}
