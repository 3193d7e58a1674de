#!/usr/bin/env node
// Runs the vitest suite in headless Chromium: one suite, two places. Every test/**/*.test.ts except
// *.node.test.ts (those need fs, child_process, the CLI) is bundled with esbuild, with `vitest`
// replaced by test/browser/vitest-shim.ts and test/helpers/host.ts by host.browser.ts, and run in its
// own page of the system Chromium, whose WebGPU is SwiftShader's Vulkan on a machine without a GPU.
//
//   node test/browser/run.mjs [filter...]      filters: substrings of the test file path
//   node test/browser/run.mjs --serve [filter] build and serve only, to open the pages by hand
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_S (whole run, default
// 3600), BROWSER_TEST_VERBOSE=1 (forward every console message, not only errors and warnings),
// BROWSER_TEST_JOBS (files run at once, each job in its own browser, default 2).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { portableTestFiles } from './portable-files.mjs';
import { nodeTestSeconds } from '../node-test-report.mjs';
import puppeteer from 'puppeteer';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHIM = path.join(ROOT, 'test/browser/vitest-shim.ts');
const HOST_NODE = path.join(ROOT, 'test/helpers/host.ts');
const HOST_BROWSER = path.join(ROOT, 'test/helpers/host.browser.ts');
const PAGE = path.join(ROOT, 'test/browser/index.html');
// Never written: esbuild only needs it to name outputs and to make source-map paths relative.
const OUTDIR = path.join(ROOT, '.browser-bundle');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// --enable-unsafe-webgpu is all WebGPU needs: with no GPU, Chromium picks SwiftShader's Vulkan
// adapter by itself. --no-sandbox because tests may run as root; the rest keeps Chromium off the
// network and quiet. (src/cli/chromium/flags.ts holds the same list for TypeScript callers.)
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const TEST_TIMEOUT_MS = 120_000; // the shim's default per-test timeout, as in vitest.config.ts
// The page enforces per-test timeouts itself; this only catches a page whose JavaScript is stuck
// (a synchronous endless loop), which cannot fire its own timers.
const WATCHDOG_GRACE_MS = 30_000;
const GLOBAL_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_S || 3600) * 1000;
const VERBOSE = process.env.BROWSER_TEST_VERBOSE === '1';
// Two files at once, in two browsers, keep both cores of a small machine busy: one page's JavaScript
// (float64 references, the shim) runs while the other's work is in its GPU process. Measured on the
// 2-core machine with SwiftShader: the 60 files took 202 s one at a time and about 150 s two at a time.
const JOBS = Math.max(1, Number(process.env.BROWSER_TEST_JOBS || 2) | 0);

const args = process.argv.slice(2);
const serveOnly = args.includes('--serve');
const filters = args.filter((a) => a !== '--serve');

// ---- find and bundle ------------------------------------------------------------------------------

const files = longestFirst(portableTestFiles(ROOT, filters));

/**
 * The files that took longest in the last Node run (test/node-test-report.mjs) first, files it did not
 * run before them, so that two jobs do not end with one long file running alone.
 */
function longestFirst(list) {
  const seconds = nodeTestSeconds(ROOT);
  if (!seconds) return list; // no report yet (or an unreadable one): the sorted list
  const known = (f) => seconds.get(f) ?? Number.MAX_VALUE;
  return [...list].sort((a, b) => known(b) - known(a));
}

const redirects = {
  name: 'browser-redirects',
  setup(build) {
    build.onResolve({ filter: /^vitest$/ }, () => ({ path: SHIM }));
    // Any specifier that may name test/helpers/host.ts ('../helpers/host', './host.js', ...):
    // resolve it normally, then swap the Node host for the browser one.
    build.onResolve({ filter: /(^|\/)host(\.[jt]s)?$/ }, async (a) => {
      if (a.pluginData?.resolving) return undefined;
      const r = await build.resolve(a.path, {
        kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: { resolving: true },
      });
      if (r.errors.length) return { errors: r.errors };
      return { path: r.path === HOST_NODE ? HOST_BROWSER : r.path, external: r.external, sideEffects: r.sideEffects };
    });
  },
};

const bundleName = (file) => `${file.replace(/[^\w.-]/g, '_')}`;
const served = new Map(); // URL path -> { body, type }
const sourceMaps = new Map(); // bundle URL path -> SourceMap

async function bundle(file) {
  try {
    const r = await esbuild.build({
      entryPoints: [path.join(ROOT, file)],
      entryNames: bundleName(file),
      outdir: OUTDIR,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      sourcemap: 'linked', // DevTools and the stack mapping below both read it
      loader: { '.wgsl': 'text' },
      plugins: [redirects],
      logLevel: 'silent',
    });
    for (const out of r.outputFiles) {
      const urlPath = `/__bundle/${path.basename(out.path)}`;
      const isMap = out.path.endsWith('.map');
      served.set(urlPath, { body: out.contents, type: isMap ? 'application/json' : 'text/javascript' });
      if (isMap) sourceMaps.set(urlPath.slice(0, -4), new SourceMap(JSON.parse(out.text)));
    }
    return { url: `/__bundle/${bundleName(file)}.js` };
  } catch (e) {
    const msgs = e.errors?.length ? await esbuild.formatMessages(e.errors, { kind: 'error' }) : [String(e)];
    return { error: msgs.join('\n') };
  }
}

// ---- serve ----------------------------------------------------------------------------------------

// A real http origin: 127.0.0.1 is a secure context, so navigator.gpu exists (it does not on file:
// or data: URLs). Besides the page and bundles, repository files are served read-only so a browser
// test can fetch a fixture such as /test/data/....
const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  if (pathname === '/favicon.ico') return void res.writeHead(204).end(); // else a 404 console error
  let hit = pathname === '/' ? { body: readFileSync(PAGE), type: 'text/html' } : served.get(pathname);
  const file = path.join(ROOT, decodeURIComponent(pathname));
  if (!hit && file.startsWith(ROOT + path.sep) && existsSync(file) && statSync(file).isFile()) {
    // Module scripts (dist/engine.js) need a JavaScript MIME type; everything else is plain bytes.
    const type = /\.m?js$/.test(file) ? 'text/javascript' : 'application/octet-stream';
    hit = { body: readFileSync(file), type };
  }
  res.writeHead(hit ? 200 : 404, { 'content-type': hit?.type ?? 'text/plain', 'cache-control': 'no-store' });
  res.end(hit?.body ?? 'not found');
});

// ---- report ---------------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
let skipped = 0;
let base = '';

// Stacks come back pointing into the bundles; map each frame to the TypeScript source and drop
// frames from node_modules and the shim, which only hide the test's own line.
function mapStack(stack) {
  const frameUrl = /(?:https?:\/\/127\.0\.0\.1:\d+)?(\/__bundle\/[^\s:)]+\.js):(\d+):(\d+)/g;
  return stack
    .split('\n')
    .map((line) => line.replace(frameUrl, (m, url, l, c) => {
      const e = sourceMaps.get(url)?.findEntry(Number(l) - 1, Number(c) - 1);
      if (!e?.originalSource) return m;
      const src = path.relative(process.cwd(), path.resolve(OUTDIR, e.originalSource.replace(/^file:\/\//, '')));
      return `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`;
    }))
    .filter((line) => !/^\s+at /.test(line) || !/node_modules|vitest-shim\.ts|\/__bundle\/|<anonymous>/.test(line));
}

// Matcher messages and diffs carry colour codes; keep them only on a terminal.
const plain = (s) => (process.stdout.isTTY ? s : s.replace(/\x1b\[[0-9;]*m/g, ''));

// Every report line goes through a `log` function: console.log for the run itself, and for a test file
// a buffer printed in one piece when the file is done, so files that run at once do not interleave.
function printError(err, log = console.log) {
  const indent = (s) => plain(s).split('\n').map((l) => `      ${l}`).join('\n');
  log(indent(err.message));
  if (err.diff) log(indent(err.diff));
  const frames = mapStack(err.stack ?? '').filter((l) => /^\s+at /.test(l));
  if (frames.length) log(indent(frames.map((l) => l.trim()).join('\n')));
}

function onResult(ev, log) {
  if (ev.state === 'pass') passed++;
  else if (ev.state === 'fail') failed++;
  else skipped++;
  const mark = { pass: '✓', fail: '✗', skip: '↓' }[ev.state];
  log(`  ${mark} ${ev.name}${ev.state === 'skip' ? ' (skipped)' : ` (${ev.ms} ms)`}`);
  for (const err of ev.errors ?? []) printError(err, log);
}

function failOutside(what, err, log = console.log) {
  failed++;
  log(`  ✗ ${what}`);
  printError(err, log);
}

// ---- run ------------------------------------------------------------------------------------------

// The report lines of the files still running, printed as they stand if the whole run times out.
const running = new Set();

async function runFile(browser, file, built) {
  const lines = [`\n${file}`];
  const log = (line) => lines.push(line);
  running.add(lines);
  try {
    await runFileInPage(browser, built, log);
  } finally {
    running.delete(lines);
    console.log(lines.join('\n'));
  }
}

async function runFileInPage(browser, built, log) {
  if (built.error) return failOutside('bundling failed', { message: built.error }, log);
  const page = await browser.newPage();
  let current = 'loading the file';
  let timer;
  let finish;
  const outcome = new Promise((r) => { finish = r; });
  const arm = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => finish({ stuck: ms }), ms);
  };
  await page.exposeFunction('__report', (ev) => {
    if (ev.type === 'begin') { current = ev.name; arm(ev.timeout + WATCHDOG_GRACE_MS); }
    if (ev.type === 'result') { onResult(ev, log); arm(TEST_TIMEOUT_MS + WATCHDOG_GRACE_MS); }
    if (ev.type === 'error') failOutside(ev.name, ev.error, log);
    if (ev.type === 'done') finish({});
  });
  page.on('console', (msg) => {
    const type = msg.type();
    if (VERBOSE || type === 'error' || type === 'warn' || type === 'assert') {
      log(mapStack(`  [console.${type}] ${msg.text()}`).join('\n'));
    }
  });
  page.on('error', (e) => finish({ crashed: e })); // the renderer crashed
  arm(TEST_TIMEOUT_MS + WATCHDOG_GRACE_MS);
  page.goto(`${base}/?file=${built.url}`).catch((e) => finish({ crashed: e }));
  const r = await outcome;
  clearTimeout(timer);
  if (r.stuck) {
    failOutside(`${current}: the page stopped responding for ${r.stuck / 1000} s (the rest of the file did not run)`, {
      message: 'A synchronous endless loop, or a wait that never yields to the event loop?',
    }, log);
  }
  if (r.crashed) failOutside(`${current}: the page crashed`, { message: String(r.crashed?.message ?? r.crashed) }, log);
  // A stuck renderer may not answer; do not let closing it hold up the run.
  await Promise.race([page.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
}

async function main() {
  const started = Date.now();
  if (!files.length) {
    console.log(`No browser test files match ${filters.length ? filters.join(' ') : 'test/**/*.test.ts'}.`);
  }
  const builds = await Promise.all(files.map(bundle));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;

  if (serveOnly) {
    console.log('Serving; open in a Chromium started with --enable-unsafe-webgpu (Ctrl-C to stop):');
    files.forEach((f, i) => builds[i].url && console.log(`  ${base}/?file=${builds[i].url}`));
    return;
  }

  if (files.length) {
    if (!existsSync(CHROMIUM)) {
      console.log(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium libvulkan1 (or set CHROMIUM_PATH)`);
      failed++;
    } else {
      const globalTimer = setTimeout(() => {
        for (const lines of running) console.log(lines.join('\n'));
        failOutside(`the whole run passed its ${GLOBAL_TIMEOUT_MS / 1000} s limit (BROWSER_TEST_TIMEOUT_S)`, { message: 'stopped' });
        finishRun(started);
      }, GLOBAL_TIMEOUT_MS);
      let next = 0;
      // Each job has its own browser: pages of one browser share its GPU process, where the adapter's work
      // and shader compiles queue one after another (two pages of one browser took 190 s).
      const job = async () => {
        const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'screener-chromium-'));
        const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, userDataDir, args: FLAGS });
        process.on('exit', () => {
          browser.process()?.kill('SIGKILL');
          rmSync(userDataDir, { recursive: true, force: true });
        });
        while (next < files.length) {
          const i = next++;
          await runFile(browser, files[i], builds[i]);
        }
        await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
      };
      await Promise.all(Array.from({ length: Math.min(JOBS, files.length) }, job));
      clearTimeout(globalTimer);
    }
  }
  finishRun(started);
}

function finishRun(started) {
  console.log(`\n${files.length} file(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`Chromium: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  server.close();
  process.exit(failed || passed === 0 ? 1 : 0);
}

main().catch((e) => {
  failOutside('the runner itself failed', { message: String(e?.message ?? e), stack: e?.stack });
  finishRun(Date.now());
});
