// The shell and HTML examples of README, CONTRIBUTING and docs/, read from the pages (test/node/docs-examples.js):
// each `npm run` names a script package.json has, each `npx idcapture-emulator` command starts the emulator as written
// (on a free port), every other command is one a reader can run; each script tag names the tag's files and only the
// data-* attributes the tag reads, and its inline code parses. Needs `npm run build` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allBlocks, root } from './docs-examples.js';

const blocks = allBlocks();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Languages the docs may use, and how each is checked (ts/js in package.test.js, python and ruby in
 * identity-token-interop.test.js, edge.md's toml by recipe-wrangler.test.js, the rest here). PHP's signing example in
 * docs/identity-token.md is unrun: its library, firebase/php-jwt, comes from Packagist, which Debian does not package
 * and CI cannot reach; it carries the same claims as the Python and Ruby ones, which run.
 */
const CHECKED = ['ts', 'js', 'sh', 'html', 'toml', 'python', 'ruby', ''];
const UNRUN = ['docs/identity-token.md php'];

test('every code block is in a language a test checks', () => {
  assert.deepEqual(blocks.filter((b) => !CHECKED.includes(b.lang) && !UNRUN.includes(`${b.page} ${b.lang}`)).map((b) => `${b.page}:${b.line} ${b.lang}`), []);
  assert.deepEqual(blocks.filter((b) => b.lang == 'python').map((b) => b.page), ['docs/identity-token.md']);
  assert.deepEqual(blocks.filter((b) => b.lang == 'ruby').map((b) => b.page), ['docs/identity-token.md']);
  // The one block without a language is README's picture; the one toml block is edge.md's wrangler.toml.
  assert.deepEqual(blocks.filter((b) => b.lang == '').map((b) => b.page), ['README.md']);
  assert.deepEqual(blocks.filter((b) => b.lang == 'toml').map((b) => b.page), ['docs/edge.md']);
});

/** Each command of the sh blocks: `{ where, words }`, environment assignments and comments left out. */
const commands = blocks
  .filter((b) => b.lang == 'sh')
  .flatMap((b) => b.code.split('\n').map((line, i) => ({ where: `${b.page}:${b.line + 1 + i}`, line: line.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim() })))
  .filter(({ line }) => line)
    // `NAME=<a placeholder> npm run demo`: the environment is the reader's, the command is checked.
  .flatMap(({ where, line }) => line.split('&&').map((part) => ({ where, words: part.trim().replace(/^([A-Z_]+=(<[^>]*>|\S+)\s+)+/, '').split(/\s+/) })));

test('every npm run names a script of package.json, and every command is one a reader has', () => {
  const known = ['npm', 'npx', 'git', 'cd'];
  for (const { where, words } of commands) {
    assert.ok(known.includes(words[0]), `${where}: ${words.join(' ')}`);
    if (words[0] == 'npm' && words[1] == 'run') assert.ok(words[2] in manifest.scripts, `${where}: npm run ${words[2]}`);
    if (words[0] == 'npm') assert.ok(['run', 'test', 'install', 'pack'].includes(words[1]), `${where}: npm ${words[1]}`);
  }
  assert.ok(commands.some(({ words }) => words.join(' ') == 'npm run demo'), 'README runs the demo');
  assert.ok(commands.some(({ words }) => words.join(' ') == 'npm test'), 'README runs the tests');
});

for (const { where, words } of commands.filter(({ words }) => words[0] == 'npx' && words[1] == 'idcapture-emulator')) {
  test(`${where}: ${words.slice(1).join(' ')} starts the emulator`, async () => {
    const args = words.slice(2);
    const port = args.indexOf('--port');
    if (port >= 0) args[port + 1] = '0';
    else args.push('--port', '0');
    const child = spawn(process.execPath, [join(root, manifest.bin['idcapture-emulator']), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (chunk) => (out += chunk));
    try {
      for await (const chunk of child.stdout) if (/listening on http:\/\/127\.0\.0\.1:\d+\/v3/.test((out += chunk))) break;
      assert.match(out, /idcapture emulator listening on http:\/\/127\.0\.0\.1:\d+\/v3/);
    } finally {
      child.kill();
      if (child.exitCode == null) await once(child, 'exit');
    }
  });
}

/** The data-* attributes the script tag and its consent adapters read (`data.x`, or destructured from `data`). */
function attributesRead() {
  const files = ['src/script-tag.ts', 'src/consent/tcf.ts', 'src/consent/gcm.ts', 'src/consent/shopify.ts', 'src/consent/onetrust.ts', 'src/consent/cookiebot.ts'];
  const names = new Set();
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const [, name] of source.matchAll(/\bdata\.(\w+)/g)) names.add(name);
    for (const [, list] of source.matchAll(/const \{([^}]*)\} = data;/g)) for (const [, name] of list.matchAll(/(\w+)\s*(?::|,|=|$)/g)) names.add(name);
  }
  return new Set([...names].map((name) => `data-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
}

test("every script tag of the docs names the tag's files and only attributes the tag reads; its inline code parses", () => {
  const read = attributesRead();
  for (const needed of ['data-endpoint', 'data-consent-source', 'data-debug', 'data-batch-size', 'data-tcf-purposes']) assert.ok(read.has(needed), needed);
  const tags = blocks.filter((b) => b.lang == 'html');
  assert.ok(tags.length >= 4);
  for (const { page, line, code } of tags) {
    for (const [, attributes, body] of code.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      const src = /\bsrc="([^"]+)"/.exec(attributes)?.[1];
      if (src) assert.match(src, /\/idcapture(\.debug|-\d+\.\d+\.\d+)?\.js$/, `${page}:${line}`);
      else assert.doesNotThrow(() => new Function(body), `${page}:${line}: ${body}`);
      for (const [, name] of attributes.matchAll(/\s(data-[\w-]+)/g)) assert.ok(read.has(name), `${page}:${line}: ${name} is no attribute the tag reads`);
    }
  }
});

/** GitHub's anchor of a heading. */
const slug = (heading) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

test('every relative link of the docs reaches a page and a heading that exist', async () => {
  const { PAGES } = await import('./docs-examples.js');
  const { existsSync } = await import('node:fs');
  const { dirname, normalize } = await import('node:path');
  const anchors = (page) => {
    const text = readFileSync(join(root, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    return new Set([...text.matchAll(/^#+ (.*)$/gm)].map(([, heading]) => slug(heading)));
  };
  const broken = [];
  for (const page of PAGES) {
    const text = readFileSync(join(root, page), 'utf8');
    for (const [, target, anchor] of text.matchAll(/\]\((?!https?:)([^)#\s]*)(?:#([\w-]+))?\)/g)) {
      const file = target ? normalize(join(dirname(page), target)) : page;
      if (!existsSync(join(root, file))) broken.push(`${page}: ${target}`);
      else if (anchor && file.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${page}: ${target}#${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
});
