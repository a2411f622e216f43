// DESIGN.md section 1: the emulator's Fetch handler is Web-standard; only its http server and CLI touch Node, and
// nothing the browser or the proxy ships imports the emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

const src = new URL('../../src/', import.meta.url);
const files = (dir) =>
  readdirSync(new URL(dir, src), { recursive: true })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`${dir}${f}`, readFileSync(new URL(`${dir}${f}`, src), 'utf8')]);

test('only the http server and the CLI of the emulator import node: modules', () => {
  const nodeUsers = files('emulator/').filter(([, code]) => /from 'node:/.test(code)).map(([file]) => file);
  assert.deepEqual(nodeUsers.sort(), ['emulator/cli.ts', 'emulator/server.ts']);
});

test('the emulator validates with the shared profile rules, not a copy of them', () => {
  const [[, payload]] = files('emulator/').filter(([file]) => file == 'emulator/payload.ts');
  assert.match(payload, /import \{[^}]*\blistProblems\b[^}]*\} from '\.\.\/profile\/rules'/);
  for (const [file, code] of files('emulator/')) assert.doesNotMatch(code, /\[a-z\]\[a-z0-9_\]|length > \d|\{1,64\}@/, file);
});

test('the helpers shared by the proxy and the emulator use Web-standard APIs only', () => {
  for (const [file, code] of [...files('http/'), ...files('profile/')]) assert.doesNotMatch(code, /from 'node:/, file);
  // The Node adapter (node.ts, node-listener.ts, node-server.ts) is the one part of the proxy that may touch node:.
  for (const [file, code] of files('proxy/').filter(([file]) => !/^proxy\/node(-[a-z]+)?\.ts$/.test(file))) {
    assert.doesNotMatch(code, /from 'node:/, file);
  }
});

test('no browser or proxy source imports the emulator', () => {
  for (const [file, code] of [...files('client/'), ...files('proxy/'), ...files('profile/'), ...files('http/')]) {
    assert.doesNotMatch(code, /from '[^']*emulator/, file);
  }
});
