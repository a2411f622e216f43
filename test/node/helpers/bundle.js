// Bundling for tests: a source module as plain JavaScript (to test browser code that has no Node entry point), and an
// entry as a browser-platform bundler would see it (to find which Node modules it would pull in).
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import ts from 'typescript';

const root = new URL('../../../', import.meta.url);

/**
 * Imports `src/<path>.ts` and what it imports, each file transpiled on its own (types are stripped, not checked: the
 * typecheck script does that), as one ES module.
 */
export async function importSource(path) {
  const transpile = {
    name: 'transpile',
    resolveId: (source, importer) => (importer && source.startsWith('.') ? fileURLToPath(new URL(`${source}.ts`, `file://${importer}`)) : null),
    transform: (code, id) =>
      id.endsWith('.ts') ? ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText : null,
  };
  const build = await rollup({ input: fileURLToPath(new URL(`src/${path}.ts`, root)), plugins: [transpile] });
  const { output } = await build.generate({ format: 'es' });
  return import(`data:text/javascript,${encodeURIComponent(output[0].code)}`);
}

/**
 * The Node built-ins a browser-platform bundle of `entry` (ES module source importing from dist/) still imports once
 * unused imports are shaken out, as an edge bundler would keep them.
 */
export async function nodeImportsOf(entry) {
  const ENTRY = '\0entry';
  const virtual = { name: 'entry', resolveId: (id) => (id == ENTRY ? id : null), load: (id) => (id == ENTRY ? entry : null) };
  const isBuiltin = (id) => id.startsWith('node:') || builtinModules.includes(id);
  const build = await rollup({
    input: ENTRY,
    plugins: [virtual, resolve({ browser: true, rootDir: fileURLToPath(root) })],
    external: isBuiltin,
    treeshake: { moduleSideEffects: 'no-external' },
    onwarn: () => {},
  });
  const { output } = await build.generate({ format: 'es' });
  return output[0].imports.filter(isBuiltin);
}

/** An absolute specifier for `dist/<file>`, for a bundle entry. */
export const dist = (file) => fileURLToPath(new URL(`dist/${file}`, root));
