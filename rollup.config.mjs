import typescript from '@rollup/plugin-typescript';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const ts = (options = {}) => typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts', 'demo/**/*.ts'], ...options });

export default [
  // The script-tag file: one minified IIFE with idb-keyval inside, the artefact the size budget is about.
  {
    input: 'src/script-tag.ts',
    output: { file: 'dist/idcapture.js', format: 'iife', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] },
    plugins: [resolve({ browser: true }), ts({ declaration: false })],
  },
  // The npm package: one ESM file per export path, dependencies left to the user's bundler, with declarations.
  {
    input: {
      index: 'src/index.ts',
      proxy: 'src/proxy/index.ts',
      'proxy-node': 'src/proxy/node.ts',
      emulator: 'src/emulator/index.ts',
      'emulator-cli': 'src/emulator/cli.ts',
      server: 'src/server/index.ts',
    },
    output: { dir: 'dist', format: 'es', chunkFileNames: 'chunks/[name].js' },
    external: (id) => /^(node:|idb-keyval$|ky$)/.test(id),
    plugins: [ts({ declaration: true, declarationDir: 'dist/types', rootDir: '.', outDir: 'dist' })],
  },
  // The example Cloudflare Worker, self-contained so workerd (and wrangler) can load it as is.
  {
    input: 'demo/edge/worker.ts',
    output: { file: 'dist/edge/worker.js', format: 'es' },
    plugins: [resolve(), ts({ declaration: false })],
  },
];
