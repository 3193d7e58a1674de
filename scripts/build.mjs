// Builds the bundles with esbuild, the engine's declarations and the web app:
//   dist/engine.js    the embeddable engine (src/gpu, src/kernels, src/graph, shaders): one ES module, no imports
//   dist/engine.d.ts  its types, one self-contained file (scripts/engine-dts.mjs)
//   dist/screener.js  the model side for pages (src/screener.ts, engine included): one ES module, no imports
//   dist/web/         the page `screener serve` serves: index.html, app.css, app.js (src/web, NiiVue
//                     bundled in); app.js imports ../screener.js, so the page runs the bundle above
//   dist/web/remote.js  the page `train|predict --runtime chromium` drive in headless Chromium
//                     (src/web/remote.ts); it too imports ../screener.js
//   dist/cli.js     the `screener` command for Node
//   dist/bench.js   the benchmark runner for Node
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

// The page's code imports the model side from src/screener.ts only; in the bundle that import stays
// an import of the built dist/screener.js (one copy of the model code, the one pages embed). Any
// other import from src/ would bundle a second copy of that code into app.js, so it fails the build.
const screenerExternal = {
  name: 'screener-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\// }, (a) => {
      if (!a.importer.includes('/src/web/')) return undefined;
      if (a.path === '../screener') return { path: '../screener.js', external: true };
      return { errors: [{ text: `src/web takes the model side from '../screener' only, not '${a.path}'` }] };
    });
  },
};

await Promise.all([
  build({ ...shared, entryPoints: ['src/engine.ts'], outfile: 'dist/engine.js', platform: 'browser' }),
  build({ ...shared, entryPoints: ['src/screener.ts'], outfile: 'dist/screener.js', platform: 'browser' }),
  build({
    ...shared,
    entryPoints: ['src/web/main.ts'],
    outfile: 'dist/web/app.js',
    platform: 'browser',
    plugins: [screenerExternal],
  }),
  build({
    ...shared,
    entryPoints: ['src/web/remote.ts'],
    outfile: 'dist/web/remote.js',
    platform: 'browser',
    plugins: [screenerExternal],
  }),
  build({
    ...shared,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    // puppeteer (a development dependency) is loaded only by --runtime chromium, when it is asked for.
    external: ['webgpu', 'puppeteer'],
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

// The page's static files, beside app.js.
mkdirSync('dist/web', { recursive: true });
for (const name of ['index.html', 'app.css']) copyFileSync(`src/web/${name}`, `dist/web/${name}`);

writeFileSync('dist/engine.d.ts', bundleDeclarations(process.cwd(), 'src/engine.ts'));
