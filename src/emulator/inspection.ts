/** The `/__emulator/` endpoints, for tests and the demo: profiles, stats, reset and faults over HTTP. */
import type { Clock } from '../upstream/clock';
import { json, message } from './answers';
import { FaultPlan } from './faults';
import type { EmulatorState } from './state';

/** Answers a request under `/__emulator/`; `path` is the URL's path. */
export async function answerInspection(request: Request, path: string, state: EmulatorState, clock: Clock): Promise<Response> {
  const route = `${request.method} ${path}`;
  if (route == 'GET /__emulator/profiles') return json(200, state.store.all());
  if (route == 'GET /__emulator/stats') return json(200, state.stats());
  if (route == 'POST /__emulator/reset') return state.reset(), json(200, state.stats());
  if (route == 'GET /__emulator/faults') return json(200, state.faults.faults);
  if (route == 'POST /__emulator/faults') {
    try {
      state.faults = new FaultPlan(JSON.parse(await request.text()));
    } catch (error) {
      return message(400, clock.now(), error instanceof Error ? error.message : String(error));
    }
    return json(200, state.faults.faults);
  }
  return json(404, { message: 'Not Found' });
}
