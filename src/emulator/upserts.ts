/** `POST /v3/profiles`: the body read within its deadline, checked as one batch, then accepted or refused whole. */
import { readBody, TOO_LARGE } from '../http/read-body';
import { accepted, message, problem } from './answers';
import type { EmulatorConfig } from './options';
import { parsePayload, UNPARSEABLE } from './payload';
import type { EmulatorState } from './state';

/** Names the undeclared fields left out of an accepted batch under `unknownFields: 'drop'`. */
const DROPPED_HEADER = 'x-emulator-dropped-fields';
const TIMED_OUT = Symbol('timed out');

/**
 * The body, or TIMED_OUT when it has not all arrived within `bodyTimeoutMs`. The read left pending then ends when
 * the server closes the connection, which the 408's `connection: close` asks for.
 */
async function readWithin(request: Request, { bodyTimeoutMs, maxBodyBytes }: EmulatorConfig) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, bodyTimeoutMs, TIMED_OUT)));
  try {
    return await Promise.race([readBody(request, maxBodyBytes), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Answers an upsert request received at `now`; an accepted batch goes to `state`. */
export async function answerUpserts(request: Request, now: number, config: EmulatorConfig, state: EmulatorState): Promise<Response> {
  const body = await readWithin(request, config);
  if (body === TIMED_OUT) {
    const text = `Request body not received within ${config.bodyTimeoutMs} ms.`;
    return message(408, config.clock.now(), text, { connection: 'close' });
  }
  if (body === TOO_LARGE) return message(413, now, `Request body is larger than ${config.maxBodyBytes} bytes.`);
  if (!body) return message(400, now, UNPARSEABLE);
  const payload = parsePayload(body, config.maxBatch, config.known, config.dropUnknown);
  if ('message' in payload) return message(400, now, payload.message);
  if ('invalids' in payload) return problem(400, now, { invalids: payload.invalids });
  const dropped = payload.dropped.flat();
  state.accept(payload.records, dropped);
  return accepted(now, dropped.length ? { [DROPPED_HEADER]: [...new Set(dropped)].join(', ') } : {});
}
