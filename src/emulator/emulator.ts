/** `createEmulator`: a request routed to its path (the `/v3` API behind faults, key and limit, or the inspection). */
import { forbidden, json, message, tooManyRequests } from './answers';
import { FaultPlan, type Faults } from './faults';
import { answerInspection } from './inspection';
import { answerLookup } from './lookup';
import { resolveOptions, type EmulatorConfig, type EmulatorOptions } from './options';
import { UNPARSEABLE } from './payload';
import { EmulatorState, type EmulatorStats } from './state';
import type { ProfileView } from './store';
import { answerUpserts } from './upserts';

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

/** A `/v3` request, in the API's order: injected faults, the key, the rate limit, then the path and method. */
async function answerApi(request: Request, url: URL, config: EmulatorConfig, state: EmulatorState): Promise<Response> {
  const decision = state.faults.decide();
  if (decision.latencyMs) await config.clock.sleep(decision.latencyMs);
  const now = config.clock.now();
  // Injected failures come from "the infrastructure", before the key is even looked at, and change nothing.
  if (decision.outcome == 'drop') return Response.error();
  if (decision.outcome == 429) return tooManyRequests(1);
  if (decision.outcome) return message(decision.outcome, now, 'Injected fault.');
  const key = request.headers.get('x-api-key');
  if (key === null || !config.apiKeys.has(key)) return forbidden();
  const wait = state.limit?.take(key);
  if (wait) return tooManyRequests(wait);
  if (url.pathname != API) return message(404, now, `No such path: ${url.pathname}`);
  if (request.method == 'POST') return answerUpserts(request, now, config, state);
  if (request.method == 'GET') return answerLookup(url, now, config.known, state.store);
  return message(405, now, `Method ${request.method} is not allowed.`, { allow: 'GET, POST' });
}

/** Creates a profiles API emulator; see `EmulatorOptions` for the defaults. Throws on a bad option. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const config = resolveOptions(options);
  const state = new EmulatorState(config);
  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname.startsWith('/__emulator/')) return answerInspection(request, url.pathname, state, config.clock);
      if (!url.pathname.startsWith('/v3/')) return json(404, { message: 'Not Found' });
      let response: Response;
      try {
        response = await answerApi(request, url, config, state);
      } catch {
        // Only reading the body can throw: the client went away or sent a broken stream.
        response = message(400, config.clock.now(), UNPARSEABLE);
      }
      state.count(response.type == 'error' ? 'dropped' : String(response.status));
      return response;
    },
    profiles: () => state.store.all(),
    stats: () => state.stats(),
    reset: () => state.reset(),
    setFaults(faults) {
      state.faults = new FaultPlan(faults);
    },
  };
}
