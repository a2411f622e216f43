/**
 * The single writer per account: one Durable Object (`idFromName('profiles')`) runs the proxy for every isolate, so
 * requests from all of them are merged into the same upstream requests under one pace, and the per-IP budget is
 * exact. It is reached only through the edge's Worker, which sets the client IP header it trusts.
 */
import { createProxy, type ProxyHandler } from '../proxy/handler';
import type { ProxyOptions } from '../proxy/options';
import { createStorageCaptureTimes, type DurableStorage } from './capture-times';

/** The Worker passes the client IP to the object in this header, always overwriting what the client sent. */
export const CLIENT_IP = 'x-idcapture-client-ip';

/** The few methods of a Durable Object namespace binding the edge calls. */
export interface WriterNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** Sends `request` to the account's writer object, with the client IP the edge saw. */
export function toWriter(namespace: WriterNamespace, request: Request, clientIp: string | undefined): Promise<Response> {
  const headers = new Headers(request.headers);
  if (clientIp) headers.set(CLIENT_IP, clientIp);
  else headers.delete(CLIENT_IP);
  return namespace.get(namespace.idFromName('profiles')).fetch(new Request(request, { headers }));
}

/** The proxy options of the Worker that created the edge in this module, resolved for an env (set by `createEdge`). */
let writerOptions: ((env: unknown) => ProxyOptions) | undefined;

/** Registers how the writer object gets its proxy options; the last `createEdge` of the module wins. */
export const setWriterOptions = (options: (env: unknown) => ProxyOptions) => void (writerOptions = options);

/**
 * The Durable Object class: export it from your Worker (`export { ProfileWriter } from 'idcapture/edge'`) and bind
 * it (see README, `idcapture/edge`). It runs with the options given to `createEdge` in the same Worker, and keeps the
 * capture time of the newest write per identity and attribute in its storage, so the newest write wins.
 */
export class ProfileWriter {
  private readonly handle: ProxyHandler;
  private times?: ReturnType<typeof createStorageCaptureTimes>;
  constructor(state: { storage: DurableStorage }, env: unknown) {
    if (!writerOptions) throw new TypeError('idcapture/edge: ProfileWriter runs in a Worker that calls createEdge');
    const times = (maxAgeMs: number) => (this.times = createStorageCaptureTimes(state.storage, () => Date.now(), maxAgeMs));
    this.handle = createProxy({ ...writerOptions(env), trustProxyHeader: CLIENT_IP }, undefined, times);
  }
  /** The object's alarm: forgets the capture times of identities not written for `maxAgeDays`. */
  async alarm(): Promise<void> {
    await this.times?.sweep();
  }
  /** The proxy's answer to a request the edge forwarded. */
  fetch(request: Request): Promise<Response> {
    return this.handle(request);
  }
}
