#!/usr/bin/env node
// Bundles the portable test suite (every test/**/*.test.ts except *.node.test.ts, the same files the
// Chromium runner runs) for plain Node, so that a machine with Node and Dawn's addon but no npm
// packages (a GPU machine, docs/gpu.md) runs it: `vitest` is replaced by the shim the Chromium runner
// uses, everything but `webgpu` is bundled in, and the files share their common code as chunks.
//
//   node test/bundled/build.mjs [--out DIR] [filter | FILE.ts ...]
// writes dist/tests/ (or DIR); then `node dist/tests/run.mjs` from the project root. A filter is a
// substring of the test file paths; a path to an existing .ts file bundles that file itself.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { portableTestFiles } from '../browser/portable-files.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHIM = path.join(ROOT, 'test/browser/vitest-shim.ts');
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const OUT = outAt >= 0 ? path.resolve(args[outAt + 1]) : path.join(ROOT, 'dist/tests');
const rest = args.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
const named = rest.filter((a) => a.endsWith('.ts') && existsSync(path.join(ROOT, a)));
const filters = rest.filter((a) => !named.includes(a));

const files = named.length && !filters.length ? named : [...portableTestFiles(ROOT, filters), ...named].sort();
if (!files.length) throw new Error(`no test files match ${filters.join(' ') || 'test/**/*.test.ts'}`);

const entryName = (file) => file.replace(/^test\//, '').replace(/\.ts$/, '').replace(/[^\w.-]/g, '_');

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await esbuild.build({
  entryPoints: Object.fromEntries(files.map((f) => [entryName(f), path.join(ROOT, f)])),
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['webgpu'],
  loader: { '.wgsl': 'text' },
  // CommonJS dependencies bundled into an ES module load their Node built-ins through require.
  banner: { js: "import { createRequire as __testRequire } from 'node:module'; const require = __testRequire(import.meta.url);" },
  plugins: [{ name: 'vitest-shim', setup: (b) => b.onResolve({ filter: /^vitest$/ }, () => ({ path: SHIM })) }],
  logLevel: 'warning',
});
copyFileSync(path.join(ROOT, 'test/bundled/run.mjs'), path.join(OUT, 'run.mjs'));
writeFileSync(path.join(OUT, 'files.json'), JSON.stringify(files.map((f) => ({ file: f, bundle: `${entryName(f)}.mjs` })), null, 1) + '\n');
console.log(`${path.relative(ROOT, OUT)}: ${files.length} test files bundled`);
