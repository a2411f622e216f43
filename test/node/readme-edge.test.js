// README's Worker snippet (marked `<!-- typecheck: edge-worker -->`) type-checked under `strict` against the built
// declarations of idcapture/edge, as a store's worker.ts would be: a README example that no longer compiles fails here.
// Needs `npm run build` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

test("README's idcapture/edge Worker type-checks under strict", async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const snippet = /<!-- typecheck: edge-worker -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet, 'README marks its Worker snippet with <!-- typecheck: edge-worker -->');
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
