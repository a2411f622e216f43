// Each option's default is written once, in its entry point's `defaults` object; the option tables of the docs (README.md
// and docs/*.md, each table on the page of its entry point) and the `@default` lines of the options types are checked against it here, so neither can drift from the code.
//
// How a default is written, in a docs table's default cell and after `@default`:
// - a JS literal, in backticks in the docs (`100`, `'reject'`, `{ name: 'vuid', maxAgeDays: 365 }`, `Date.now`),
//   optionally followed by a note: ` (...)` in the docs, ` (...)` or `, ...` after `@default`;
// - one of the fixed phrases below for a default the code computes (`the global fetch`);
// - for an option without a default: `none` in the docs, `undefined (...)` after `@default`;
// - for a required option: `(required)` in the docs, and no `@default` line.
// Each table follows an `<!-- options: <entry point> -->` line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as internals from '../../dist/test/node-internals.js';

const root = new URL('../../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root), 'utf8');
/** README.md and every page of docs/: where option tables may be. */
const PAGES = ['README.md', ...readdirSync(new URL('docs/', root)).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The entry points with an options table: the code's defaults, and the option interfaces whose members are rows. */
const ENTRY_POINTS = {
  createIdCapture: { defaults: internals.clientDefaults, types: [['client/options', 'IdCaptureOptions']] },
  createProxy: { defaults: internals.proxyDefaults, types: [['proxy/options', 'ProxyOptions']] },
  // The edge's own options; the proxy's are createProxy's table.
  createEdge: { defaults: internals.edgeDefaults, types: [['edge/options', 'EdgeOptions']] },
  createNodeServer: {
    defaults: internals.nodeServerDefaults,
    types: [['proxy/node-server', 'NodeServerOptions'], ['proxy/node-listener', 'NodeListenerOptions']],
  },
  createServerClient: { defaults: internals.serverClientDefaults, types: [['server/options', 'ServerClientOptions']] },
  createEmulator: { defaults: internals.emulatorDefaults, types: [['emulator/options', 'EmulatorOptions']] },
  // The emulator's own options are createEmulator's table.
  startEmulator: { defaults: internals.startEmulatorDefaults, types: [['emulator/server', 'StartOptions']] },
};

/** Option types documented by their `@default` lines only (the docs show them as one literal). */
const NESTED = {
  coalesce: { defaults: internals.coalesceDefaults, types: [['proxy/coalesce', 'CoalesceOptions']] },
  serverCookie: { defaults: internals.serverCookieDefaults, types: [['proxy/server-cookie', 'ServerCookieOptions']] },
  shared: { defaults: internals.sharedDefaults, types: [['proxy/shared/store', 'SharedOptions']] },
  // The consent sources' options (the docs table of sources argues for each default).
  tcf: { defaults: internals.tcfDefaults, types: [['consent/tcf', 'TcfOptions']] },
  gcm: { defaults: internals.gcmDefaults, types: [['consent/gcm', 'GcmOptions']] },
  onetrust: { defaults: internals.onetrustDefaults, types: [['consent/onetrust', 'OneTrustOptions']] },
  cookiebot: { defaults: internals.cookiebotDefaults, types: [['consent/cookiebot', 'CookiebotOptions']] },
};

/** The tables the docs must have: one per entry point, and `shared`'s own on its page (docs/proxy-shared.md). */
const TABLES = { ...ENTRY_POINTS, shared: NESTED.shared };

/** The phrases for computed defaults, each with what the code's default must then be. */
const PHRASES = {
  'the global fetch': (value) => {
    // Looked up at each call, so a fetch replaced after start-up is the one used.
    const original = globalThis.fetch;
    const calls = [];
    globalThis.fetch = (...args) => calls.push(args);
    try {
      value('https://api.example/v3/profiles');
    } finally {
      globalThis.fetch = original;
    }
    assert.deepEqual(calls.map(([input]) => input), ['https://api.example/v3/profiles']);
  },
  'Date.now and setTimeout': (value) => assert.equal(value, internals.systemClock),
  'the default customer fields plus vuid, email and phone': (value) => {
    assert.deepEqual(new Set(internals.DEFAULT_IDENTIFIERS), new Set(['vuid', 'email', 'phone']));
    assert.deepEqual(new Set(value), new Set([...internals.DEFAULT_FIELDS, ...internals.DEFAULT_IDENTIFIERS]));
  },
};

const evaluate = (literal) => new Function(`return (${literal});`)();

/** The end of the JS literal `text` starts with: a balanced bracket or a string, else a word such as `10000` or `Date.now`. */
function literalEnd(text) {
  if (!'{[\'"'.includes(text[0])) return text.match(/^[\w.$-]+/)?.[0].length ?? 0;
  let depth = 0;
  let quote;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c == '\\') i++;
      else if (c == quote) quote = undefined;
      if (!quote && depth == 0) return i + 1;
    } else if (c == "'" || c == '"') quote = c;
    else if (c == '{' || c == '[') depth++;
    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
  }
  return 0;
}

/** What a documented default says: `{ required }`, `{ none }`, `{ phrase }` or `{ literal }`. */
function readReadmeDefault(cell) {
  if (cell == '(required)') return { required: true };
  if (cell == 'none') return { none: true };
  const phrase = cell.replaceAll('`', '');
  if (phrase in PHRASES) return { phrase };
  const literal = cell.match(/^`([^`]+)`( \(.+\))?$/)?.[1];
  assert.ok(literal, `${JSON.stringify(cell)} is not a \`literal\`, (required), none, or one of: ${Object.keys(PHRASES).join('; ')}`);
  return { literal };
}

function readTsdocDefault(text) {
  if (/^undefined( \(.+\))?$/.test(text)) return { none: true };
  const phrase = text.replaceAll('`', '');
  if (phrase in PHRASES) return { phrase };
  const end = literalEnd(text);
  assert.ok(end && /^( \(.+\)|, .+)?$/.test(text.slice(end)), `@default ${text} is not a literal, undefined or one of the phrases`);
  return { literal: text.slice(0, end) };
}

/** Checks a documented default against the code's `defaults` and whether the type makes the option required. */
function agrees(said, name, { defaults, required }) {
  const has = Object.hasOwn(defaults, name);
  if (said.required) return assert.ok(required && !has, `${name} is documented as required`);
  assert.ok(!required, `${name} is required, but documented with a default`);
  if (said.none) return assert.ok(!has, `${name} is documented without a default, but the code has ${String(defaults[name])}`);
  assert.ok(has, `${name} is documented with a default, but the code's defaults have none`);
  if (said.phrase) return PHRASES[said.phrase](defaults[name]);
  assert.deepStrictEqual(evaluate(said.literal), defaults[name], `${name}: the documented default ${said.literal}`);
}

/** The members of `interface name` in a built declaration file: `{ name, optional, default }`, in order. */
function members(file, name) {
  const source = read(`dist/types/src/${file}.d.ts`);
  const start = source.indexOf(`export interface ${name} `);
  assert.ok(start >= 0, `${file}.d.ts declares ${name}`);
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  const found = [];
  let doc = '';
  let depth = 0;
  for (const line of body.split('\n')) {
    const comment = /^\s*(\/\*\*|\*)/.test(line);
    if (depth == 0) {
      if (line.trim().startsWith('/**')) doc = '';
      doc += `${line}\n`;
      const member = !comment && line.match(/^ {4}(\w+)(\?)?:/);
      if (member) {
        found.push({ name: member[1], optional: !!member[2], default: doc.match(/@default (.+)/)?.[1].trim() });
        doc = '';
      }
    }
    // Brackets in a type spanning lines; a comment's own are prose.
    if (!comment) depth += (line.match(/[{(]/g) ?? []).length - (line.match(/[})]/g) ?? []).length;
  }
  return found;
}

/** The members of an entry point's interfaces, the first declaring a name winning (an override of a parent's). */
function optionsOf(types) {
  const byName = new Map();
  for (const [file, name] of types) for (const member of members(file, name)) if (!byName.has(member.name)) byName.set(member.name, member);
  return byName;
}

/** The option tables of the docs by entry point: `[option, default cell]` rows. */
function readmeTables() {
  const tables = {};
  for (const page of PAGES) {
    const lines = read(page).split('\n');
    for (const [i, line] of lines.entries()) {
      const entry = line.match(/^<!-- options: (\w+) -->$/)?.[1];
      if (!entry) continue;
      assert.match(lines[i + 1], /^\| option \| default \| meaning \|$/, `${page}: the line after the ${entry} marker is its table's header`);
      const rows = [];
      for (let j = i + 3; lines[j]?.startsWith('|'); j++) {
        const [, option, cell] = lines[j].split('|').map((s) => s.trim());
        const name = option.match(/^`(\w+)`$/)?.[1];
        assert.ok(name, `${entry}: the option cell ${option} holds one \`name\``);
        rows.push([name, cell]);
      }
      assert.ok(!(entry in tables), `one table for ${entry}`);
      tables[entry] = rows;
    }
  }
  return tables;
}

test('every options table of the docs is marked with its entry point, and every entry point has one', () => {
  const headers = PAGES.flatMap((page) => read(page).split('\n')).filter((line) => /^\| option \| default \|/.test(line)).length;
  const tables = readmeTables();
  assert.equal(Object.keys(tables).length, headers, 'each options table follows an <!-- options: ... --> line');
  assert.deepEqual(Object.keys(tables).sort(), Object.keys(TABLES).sort());
});

for (const [entry, { defaults, types }] of Object.entries(TABLES)) {
  test(`${entry}: the docs' table has one row per option, each default as the code has it`, () => {
    const options = optionsOf(types);
    const rows = readmeTables()[entry];
    assert.ok(rows, `a page of docs/ has a table marked <!-- options: ${entry} -->`);
    assert.deepEqual(rows.map(([name]) => name).sort(), [...options.keys()].sort(), 'the rows are the options of the type');
    for (const [name, cell] of rows) agrees(readReadmeDefault(cell), name, { defaults, required: !options.get(name).optional });
  });
}

for (const [entry, { defaults, types }] of Object.entries({ ...ENTRY_POINTS, ...NESTED })) {
  test(`${entry}: every optional option has an @default line that agrees with the code, a required one none`, () => {
    for (const member of optionsOf(types).values()) {
      if (!member.optional) {
        assert.equal(member.default, undefined, `${member.name} is required and has no default`);
        continue;
      }
      assert.ok(member.default, `${member.name} has an @default line`);
      agrees(readTsdocDefault(member.default), member.name, { defaults, required: false });
    }
  });
}

test('the code has no default for an option its type lacks', () => {
  for (const [entry, { defaults, types }] of Object.entries({ ...ENTRY_POINTS, ...NESTED })) {
    const options = optionsOf(types);
    for (const name of Object.keys(defaults)) assert.ok(options.has(name), `${entry}: defaults.${name} is an option`);
  }
});
