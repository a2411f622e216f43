#!/usr/bin/env node
// `idcapture-emulator`: the emulator as a command, for the demo and for trying a client by hand.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { startEmulator, type StartOptions } from './index';
import { closestName } from '../options/checks';

const USAGE = `Usage: idcapture-emulator [options]

A local Zaius/ODP /v3/profiles API.

  --port <n>            TCP port (default 8787; 0 picks a free one)
  --host <address>      interface to listen on (default 127.0.0.1)
  --api-key <key>       accepted x-api-key, repeatable (default example.apiKey)
  --field <name>        custom customer field to accept, repeatable (e.g. customer_id)
  --unknown-fields <reject|drop>
                        a field neither default nor declared refuses its record, or
                        is dropped and named in x-emulator-dropped-fields (default reject)
  --rate-limit <n|off>  requests per second per key (default 10)
  --max-batch <n>       profiles per POST (default 500)
  --max-body-bytes <n>  POST body size (default 1048576)
  --apply-delay-ms <n>  apply upserts this long after the 202 (default 0)
  --headers-timeout-ms <n>  time for a request's headers to arrive, else 408 (default 10000)
  --body-timeout-ms <n>     time for a POST body to arrive, else 408 (default 10000)
  -h, --help            show this help`;

const FLAGS = {
  port: { type: 'string', default: '8787' },
  host: { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  field: { type: 'string', multiple: true },
  'unknown-fields': { type: 'string' },
  'rate-limit': { type: 'string' },
  'max-batch': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'apply-delay-ms': { type: 'string' },
  'headers-timeout-ms': { type: 'string' },
  'body-timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Refuses a flag the command does not have, suggesting the closest one, as the option checks do for code. */
function refuseUnknownFlags() {
  const names = Object.keys(FLAGS);
  for (const token of parseArgs({ options: FLAGS, strict: false, tokens: true }).tokens) {
    if (token.kind != 'option' || names.includes(token.name)) continue;
    const near = token.rawName.startsWith('--') ? closestName(token.name, names) : undefined;
    throw new TypeError(`idcapture emulator: unknown option ${token.rawName}${near ? ` (did you mean --${near}?)` : ''}`);
  }
}

/** The command line as `startEmulator` options, or undefined for `--help`. */
function parseOptions(): StartOptions | undefined {
  refuseUnknownFlags();
  const { values } = parseArgs({ options: FLAGS });
  if (values.help) return;
  // Numbers stay unchecked here: the emulator's own option checks name the problem.
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const rateLimit = values['rate-limit'];
  return {
    port: number(values.port),
    host: values.host,
    apiKeys: values['api-key'],
    fields: values.field,
    // Checked by the emulator, which names the option in its error.
    unknownFields: values['unknown-fields'] as StartOptions['unknownFields'],
    rateLimit: rateLimit == 'off' || rateLimit == 'false' ? false : number(rateLimit),
    maxBatch: number(values['max-batch']),
    maxBodyBytes: number(values['max-body-bytes']),
    applyDelayMs: number(values['apply-delay-ms']),
    headersTimeoutMs: number(values['headers-timeout-ms']),
    bodyTimeoutMs: number(values['body-timeout-ms']),
  };
}

async function main() {
  const options = parseOptions();
  if (!options) return console.log(USAGE);
  const running = await startEmulator(options);
  const stop = () => running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Printed last: whoever waits for this line may signal at once, and must find the handlers in place.
  console.log(`idcapture emulator listening on ${running.url}`);
}

/** Every message starts with the emulator's one prefix: the option errors carry it already, others (a port in use) get it. */
const PREFIX = 'idcapture emulator: ';

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(message.startsWith(PREFIX) ? message : PREFIX + message);
  process.exit(1);
});
