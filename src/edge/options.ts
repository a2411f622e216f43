/** The options of `createEdge`: the proxy's, plus what the edge itself serves. */
import { optionChecks } from '../options/checks';
import { proxyOptionNames, type ProxyOptions } from '../proxy/options';
import type { ServerCookieOptions } from '../proxy/server-cookie';
import type { InjectOptions } from './inject';

/** Options of `createEdge`: every `createProxy` option, plus these. */
export interface EdgeOptions extends ProxyOptions {
  /**
   * Inject the tag into the store's HTML pages (`200 text/html` only, streamed): `true`, or `{ attributes }` for
   * the tag's `data-*` options.
   * @default false
   */
  inject?: boolean | InjectOptions;
  /**
   * Where the edge serves the production tag.
   * @default '/idcapture.js'
   */
  scriptPath?: string;
  /**
   * The Durable Object binding of class `ProfileWriter`; when the Worker's env has it, every POST goes to one
   * object that coalesces and paces for all isolates. Without it each isolate coalesces on its own.
   * @default 'PROFILE_WRITER'
   */
  writer?: string;
  /**
   * The vuid's HttpOnly server twin, as the proxy's option: on here, because the edge runs on the store's own host.
   * @default true
   */
  serverCookie?: ServerCookieOptions | boolean;
}

/** The edge's own defaults; `serverCookie` is on here (the edge runs on the store's own host), off in `createProxy`. */
export const edgeDefaults = { inject: false, scriptPath: '/idcapture.js', writer: 'PROFILE_WRITER', serverCookie: true } as const;

const OWN = ['inject', 'scriptPath', 'writer'] as const;
const check = optionChecks('idcapture/edge');
const DATA = /^data-[a-z0-9-]+$/;

/** The edge's options as checked: its own settings, and the options to give `createProxy`. */
export interface EdgeConfig {
  /** The injected tag's extra attributes, or undefined for no injection. */
  inject: Record<string, string> | undefined;
  scriptPath: string;
  writer: string;
  proxy: ProxyOptions;
}

/** Checks the edge's own options once and splits off the proxy's. */
export function resolveEdgeOptions(options: EdgeOptions): EdgeConfig {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/edge: createEdge needs { apiKey, allowedOrigins }');
  check.known(options, [...OWN, ...proxyOptionNames]);
  // A Worker cannot open Redis's TCP connection; the Durable Object writer is the edge's one budget.
  if (options.shared !== undefined) check.fail('shared', 'left out on the edge (its writer, a Durable Object, already paces for every isolate)');
  const { inject = edgeDefaults.inject, scriptPath = edgeDefaults.scriptPath, writer = edgeDefaults.writer, ...proxy } = options;
  if (typeof scriptPath != 'string' || !/^\/[^?#]*$/.test(scriptPath)) check.fail('scriptPath', "a path starting with '/'");
  if (typeof writer != 'string' || !writer) check.fail('writer', 'a binding name');
  if (typeof inject != 'boolean' && (typeof inject != 'object' || !inject)) check.fail('inject', 'true, false or { attributes }');
  const given = typeof inject == 'object' ? inject : {};
  check.known(given, ['attributes'], 'inject');
  const attributes = given.attributes ?? {};
  if (typeof attributes != 'object' || !attributes || Object.entries(attributes).some(([n, v]) => !DATA.test(n) || typeof v != 'string')) {
    check.fail('inject.attributes', 'an object of data-* names to strings');
  }
  return {
    inject: inject ? attributes : undefined,
    scriptPath,
    writer,
    proxy: { ...proxy, serverCookie: proxy.serverCookie ?? edgeDefaults.serverCookie },
  };
}
