#!/usr/bin/env node
// Runs the bundled portable suite (built by test/bundled/build.mjs into dist/tests/) with plain Node:
// each test file in a child process of its own, as vitest's forks pool does, so no file sees another's
// module state or GPU device. Run from the project root (tests read dist/ and test/ fixtures there).
//
//   node dist/tests/run.mjs [--json FILE] [filter...]   filters: substrings of the test file path
//
// Exit status 0 only when every test passed and at least one ran.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EVENT = '\u0001test-event ';
const TEST_TIMEOUT_MS = 120_000; // the shim's default per-test timeout, as in vitest.config.ts
// A child that reports nothing for this long past its test's own timeout is stuck (a synchronous
// loop cannot fire its own timers) and is killed.
const WATCHDOG_GRACE_MS = 30_000;

if (process.argv[2] === '--child') await runChild(process.argv[3]);
else await runAll(process.argv.slice(2));

/** In the child: import one bundled test file, run its tests, write each event as one marked line. */
async function runChild(bundle) {
  globalThis.__report = async (event) => void process.stdout.write(EVENT + JSON.stringify(event) + '\n');
  try {
    await import(pathToFileURL(path.join(HERE, bundle)).href);
    if (!globalThis.__vitestShim) throw new Error(`${bundle} registered no tests`);
    await globalThis.__vitestShim.run();
  } catch (e) {
    await globalThis.__report({ type: 'error', name: 'loading or running the file', error: { message: String(e?.message ?? e), stack: e?.stack } });
  }
  await globalThis.__report({ type: 'done' });
  // Open GPU devices keep the event loop alive; the file is finished.
  process.exit(0);
}

async function runAll(args) {
  const jsonAt = args.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : null;
  const filters = args.filter((_, i) => jsonAt < 0 || (i !== jsonAt && i !== jsonAt + 1));
  const files = JSON.parse(readFileSync(path.join(HERE, 'files.json'), 'utf8'))
    .filter(({ file }) => !filters.length || filters.some((s) => file.includes(s)));
  const started = Date.now();
  const results = [];
  for (const f of files) results.push(await runFile(f));
  const total = (k) => results.reduce((s, r) => s + r[k], 0);
  const summary = { files: results.length, passed: total('passed'), failed: total('failed'), skipped: total('skipped'), seconds: (Date.now() - started) / 1000, results };
  console.log(`\n${summary.files} file(s) in ${summary.seconds.toFixed(1)} s`);
  console.log(`Node (bundled): ${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify(summary, null, 1) + '\n');
  process.exit(summary.failed || !summary.passed ? 1 : 0);
}

function runFile({ file, bundle }) {
  console.log(`\n${file}`);
  const result = { file, passed: 0, failed: 0, skipped: 0, seconds: 0, failures: [] };
  const started = Date.now();
  const fail = (name, message) => {
    result.failed++;
    result.failures.push({ name, message });
    console.log(`  ✗ ${name}\n${indent(message)}`);
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', bundle], { stdio: ['ignore', 'pipe', 'inherit'] });
    let current = 'loading the file';
    let done = false;
    let timer;
    const arm = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        fail(`${current}: no report for ${ms / 1000} s, the file was stopped (the rest of it did not run)`, 'stuck');
        child.kill('SIGKILL');
      }, ms);
    };
    arm(TEST_TIMEOUT_MS + WATCHDOG_GRACE_MS);
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (!line.startsWith(EVENT)) { console.log(`  | ${line}`); continue; }
        const ev = JSON.parse(line.slice(EVENT.length));
        if (ev.type === 'begin') { current = ev.name; arm(ev.timeout + WATCHDOG_GRACE_MS); }
        if (ev.type === 'result') {
          arm(TEST_TIMEOUT_MS + WATCHDOG_GRACE_MS);
          if (ev.state === 'pass') { result.passed++; console.log(`  ✓ ${ev.name} (${ev.ms} ms)`); }
          else if (ev.state === 'skip') { result.skipped++; console.log(`  ↓ ${ev.name} (skipped)`); }
          else fail(ev.name, (ev.errors ?? []).map((e) => [e.message, e.diff, e.stack].filter(Boolean).join('\n')).join('\n'));
        }
        if (ev.type === 'error') fail(ev.name, [ev.error.message, ev.error.stack].filter(Boolean).join('\n'));
        if (ev.type === 'done') done = true;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!done && !result.failures.some((f) => f.message === 'stuck')) fail(`${current}: the process ended early (${signal ?? `exit ${code}`})`, 'crashed');
      result.seconds = (Date.now() - started) / 1000;
      resolve(result);
    });
  });
}

function indent(text) {
  return text.split('\n').map((l) => `      ${l}`).join('\n');
}
