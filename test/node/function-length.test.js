import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { longFunctions, MAX_LINES } from '../tools/long-functions.js';

// A function past this length does more than one thing: split it into pieces that each own one.
test(`no function in src/ is over ${MAX_LINES} lines`, () => {
  assert.deepEqual(longFunctions(fileURLToPath(new URL('../../src', import.meta.url))), []);
});

test('the measure finds a long function, nested or not, and counts from its first line to its closing brace', () => {
  const body = Array.from({ length: MAX_LINES - 1 }, (_, i) => `  const x${i} = ${i};`).join('\n');
  const source = `export function fits() {\n${body.split('\n').slice(1).join('\n')}\n}\nconst outer = () => {\n  const inner = function () {\n${body}\n  };\n};\n`;
  assert.deepEqual(
    longFunctions('.', [{ file: 'x.ts', source }]).map(({ name, lines }) => [name, lines]),
    [
      ['outer', MAX_LINES + 3],
      ['inner', MAX_LINES + 1],
    ],
  );
});
