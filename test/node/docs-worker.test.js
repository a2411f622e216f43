// The Worker examples of README.md and docs/edge.md (marked `<!-- typecheck: worker -->`) type-checked under `strict`
// against the built declarations of idcapture/edge, as a store's worker.ts would be, with no Node types: an example that
// no longer compiles fails here.
// Needs `npm run build` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { allBlocks } from './docs-examples.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

for (const { page, line, code: snippet } of allBlocks().filter((b) => b.markers.includes('typecheck: worker'))) {
  test(`${page}:${line}: the idcapture/edge Worker type-checks under strict`, async () => {
    assert.match(snippet, /createEdge\(/);
    const dir = await mkdtemp(join(tmpdir(), 'idcapture-edge-readme-'));
    try {
      await writeFile(join(dir, 'worker.ts'), snippet);
      const compilerOptions = {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        // A Worker has the Fetch API and no Node: no @types/node.
        lib: ['ES2022', 'DOM'],
        types: [],
        skipLibCheck: true,
        paths: { 'idcapture/edge': [join(root, 'dist/types/src/edge/index.d.ts')] },
      };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['worker.ts'] }));
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).catch((error) => error);
      assert.equal(result.code ?? 0, 0, `${result.stdout ?? ''}${result.stderr ?? ''}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('README and docs/edge.md each show a Worker checked here', () => {
  const pages = allBlocks().filter((b) => b.markers.includes('typecheck: worker')).map((b) => b.page);
  assert.deepEqual([...new Set(pages)].sort(), ['README.md', 'docs/edge.md']);
});
