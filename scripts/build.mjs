// Builds the bundles with esbuild, and the engine's declarations:
//   dist/engine.js    the embeddable engine (src/gpu, src/kernels, src/graph, shaders): one ES module, no imports
//   dist/engine.d.ts  its types, one self-contained file (scripts/engine-dts.mjs)
//   dist/screener.js  the model side for pages (src/screener.ts, engine included): one ES module, no imports
//   dist/cli.js     the `screener` command for Node
//   dist/bench.js   the benchmark runner for Node
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { bundleDeclarations } from './engine-dts.mjs';

const shared = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  sourcemap: true,
  logLevel: 'warning',
};

// Node bundles load CommonJS dependencies through require; ES modules need it defined.
const nodeBanner = {
  js: "import { createRequire as __screenerRequire } from 'node:module'; const require = __screenerRequire(import.meta.url);",
};

await Promise.all([
  build({ ...shared, entryPoints: ['src/engine.ts'], outfile: 'dist/engine.js', platform: 'browser' }),
  build({ ...shared, entryPoints: ['src/screener.ts'], outfile: 'dist/screener.js', platform: 'browser' }),
  build({
    ...shared,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    external: ['webgpu'],
    banner: { js: '#!/usr/bin/env node\n' + nodeBanner.js },
  }),
  build({
    ...shared,
    entryPoints: ['bench/main.ts'],
    outfile: 'dist/bench.js',
    platform: 'node',
    external: ['webgpu', '@tensorflow/*'],
    banner: nodeBanner,
  }),
]);
chmodSync('dist/cli.js', 0o755);

// The engine and the model bundle must stay embeddable anywhere: no import or require may survive
// bundling (a Node built-in reached from src/screener.ts would show up here first).
for (const file of ['dist/engine.js', 'dist/screener.js']) {
  const text = readFileSync(file, 'utf8');
  const leak = text.match(/^\s*import\s.*from\s|^\s*import\s*\(|\brequire\s*\(/m);
  if (leak) {
    console.error(`build: ${file} must have no imports, found: ${leak[0].trim()}`);
    process.exit(1);
  }
}

writeFileSync('dist/engine.d.ts', bundleDeclarations(process.cwd(), 'src/engine.ts'));
