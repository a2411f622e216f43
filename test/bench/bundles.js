// Bundle size next to two references built here the same way (rollup, node-resolve for the browser, terser with two
// passes, one IIFE): the floor (ky.post + idb-keyval get/set) and Snowplow's tracker with form tracking. Raw, gzip
// (level 9) and brotli (quality 11) bytes, each as a ratio of ours to the reference.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';

export const REFERENCES = {
  floor: 'floor (ky.post + idb-keyval get/set)',
  snowplow: 'Snowplow browser-tracker + form-tracking',
};

/** Builds each reference as dist/idcapture.js is built; resolves `{ floor, snowplow }` as code strings. */
export async function buildReferences() {
  const built = {};
  for (const name of Object.keys(REFERENCES)) {
    const bundle = await rollup({
      input: fileURLToPath(new URL(`./references/${name}.js`, import.meta.url)),
      plugins: [resolve({ browser: true }), commonjs()],
      onwarn: () => {},
    });
    const { output } = await bundle.generate({ format: 'iife', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] });
    await bundle.close();
    built[name] = output[0].code;
  }
  return built;
}

const sizes = (code) => {
  const bytes = Buffer.from(code);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};

export async function bench() {
  const ours = sizes(readFileSync(new URL('../../dist/idcapture.js', import.meta.url)));
  const references = await buildReferences();
  const rows = [];
  for (const [name, code] of Object.entries(references)) {
    const theirs = sizes(code);
    for (const kind of ['raw', 'gzip', 'brotli']) {
      rows.push({ name: `dist/idcapture.js ${kind}`, value: ours[kind], unit: 'B', reference: REFERENCES[name], referenceValue: theirs[kind], ratio: ours[kind] / theirs[kind] });
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
