// What `import ... from 'vitest'` resolves to when a test file is bundled for Chromium
// (test/browser/run.mjs) or for plain Node without vitest (test/bundled/, the suite a GPU machine
// runs). Vitest's own runner cannot run there, so this file re-creates the small part of its API
// that the suite uses: describe/it/test (with .skip/.only/.todo/.each/.skipIf/.runIf), the four
// hooks, `vi.fn`/`vi.spyOn`, and `expect`. `expect` is not re-implemented: it is built from the same
// packages vitest builds it from (@vitest/expect on chai), so every matcher, its messages and its
// diffs behave exactly as under `vitest run`.
//
// Protocol with the runner: test files register tests while they are imported; the runner then calls
// `globalThis.__vitestShim.run()`, which runs them in order and reports each step through
// `globalThis.__report(event)` (a function the runner provides).
import * as chai from 'chai';
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  GLOBAL_EXPECT,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  customMatchers,
  getState,
  setState,
} from '@vitest/expect';
import { fn, spyOn } from '@vitest/spy';
import { processError } from '@vitest/utils/error';

// ---- expect: the same construction as vitest's own createExpect() -------------------------------

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type AnyFn = (...args: any[]) => any;

const expectImpl: any = (value: unknown, message?: string) => {
  const { assertionCalls } = getState(expectImpl);
  setState({ assertionCalls: assertionCalls + 1 }, expectImpl);
  return chai.expect(value, message);
};
Object.assign(expectImpl, chai.expect);
Object.assign(expectImpl, (globalThis as any)[ASYMMETRIC_MATCHERS_OBJECT]);
expectImpl.getState = () => getState(expectImpl);
expectImpl.setState = (state: object) => setState(state, expectImpl);
expectImpl.extend = (matchers: object) => (chai.expect as any).extend(expectImpl, matchers);
expectImpl.assert = chai.assert;
expectImpl.unreachable = (message?: string) => {
  chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
};
expectImpl.assertions = (n: number) => expectImpl.setState({ expectedAssertionsNumber: n });
expectImpl.hasAssertions = () => expectImpl.setState({ isExpectingAssertions: true });
expectImpl.extend(customMatchers);
// JestExtend looks the current expect up through this global symbol.
Object.defineProperty(globalThis, GLOBAL_EXPECT, { value: expectImpl, writable: true, configurable: true });

export const expect: typeof import('vitest').expect = expectImpl;
export const assert = chai.assert;
export const vi = { fn, spyOn };

// ---- registration --------------------------------------------------------------------------------

type Mode = 'run' | 'skip' | 'only' | 'todo';
interface Test { kind: 'test'; name: string; fn?: AnyFn; timeout: number; mode: Mode }
interface Suite {
  kind: 'suite';
  name: string;
  mode: Mode;
  children: (Test | Suite)[];
  beforeAll: AnyFn[];
  afterAll: AnyFn[];
  beforeEach: AnyFn[];
  afterEach: AnyFn[];
}

// Same defaults as vitest.config.ts (testTimeout, hookTimeout).
const DEFAULT_TIMEOUT = 120_000;

const newSuite = (name: string, mode: Mode): Suite => ({
  kind: 'suite', name, mode, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [],
});
const root = newSuite('', 'run');
let current = root;
let hasOnly = false;

// vitest accepts (name, fn, timeout) and (name, { timeout }, fn).
function parseArgs(a: unknown, b: unknown): { fn?: AnyFn; timeout: number } {
  if (typeof a === 'function') return { fn: a as AnyFn, timeout: typeof b === 'number' ? b : DEFAULT_TIMEOUT };
  const opts = (typeof a === 'object' && a) || (typeof b === 'object' && b) || {};
  const timeout = typeof a === 'number' ? a : ((opts as { timeout?: number }).timeout ?? DEFAULT_TIMEOUT);
  return { fn: typeof b === 'function' ? (b as AnyFn) : undefined, timeout };
}

function addTest(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  if (mode === 'only') hasOnly = true;
  const { fn, timeout } = parseArgs(a, b);
  current.children.push({ kind: 'test', name, fn, timeout, mode: fn || mode === 'skip' ? mode : 'todo' });
}

function addSuite(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  if (mode === 'only') hasOnly = true;
  const { fn } = parseArgs(a, b);
  const suite = newSuite(name, mode);
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    const r = fn?.();
    // Tests are collected while the module is imported, so collection cannot wait for a promise.
    if (r && typeof r.then === 'function') throw new Error(`describe("${name}"): the browser runner needs a synchronous describe callback`);
  } finally {
    current = parent;
  }
}

// `.each(table)(name, fn)`: an array row is spread into the arguments, anything else is passed as
// one argument. The name takes printf-style %s %d %i %f %j %o %O %#, and $key / $a.b for objects.
function formatName(template: string, row: unknown, index: number): string {
  const args = Array.isArray(row) ? [...row] : [row];
  let name = template.replace(/%[sdifjoO#%]/g, (m) => {
    if (m === '%%') return '%';
    if (m === '%#') return String(index);
    const v = args.shift();
    if (m === '%d' || m === '%i') return String(m === '%i' ? Math.trunc(Number(v)) : Number(v));
    if (m === '%f') return String(Number(v));
    if (m === '%s' && typeof v === 'string') return v;
    try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
  });
  if (row && typeof row === 'object') {
    name = name.replace(/\$([\w.]+)/g, (m, path: string) => {
      const v = path.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), row);
      return v === undefined ? m : typeof v === 'string' ? `'${v}'` : JSON.stringify(v); // vitest quotes strings here
    });
  }
  return name;
}

function makeApi(add: typeof addTest, mode: Mode = 'run'): any {
  const api: any = (name: string, a?: unknown, b?: unknown) => add(mode, name, a, b);
  api.each = (table: readonly unknown[]) => (name: string, a?: unknown, b?: unknown) => {
    const { fn, timeout } = parseArgs(a, b);
    table.forEach((row, i) => {
      const bound = fn && ((...ctx: unknown[]) => (Array.isArray(row) ? fn(...row) : fn(row, ...ctx)));
      add(mode, formatName(name, row, i), bound, timeout);
    });
  };
  if (mode === 'run') {
    api.skip = makeApi(add, 'skip');
    api.only = makeApi(add, 'only');
    api.todo = (name: string) => add('todo', name);
    api.skipIf = (cond: unknown) => (cond ? api.skip : api);
    api.runIf = (cond: unknown) => (cond ? api : api.skip);
  }
  return api;
}

export const it: typeof import('vitest').it = makeApi(addTest);
export const test: typeof import('vitest').test = it;
export const describe: typeof import('vitest').describe = makeApi(addSuite);
export const suite = describe;

// A hook that returns a function registers it as the matching teardown, as vitest does.
function hook(kind: 'beforeAll' | 'afterAll' | 'beforeEach' | 'afterEach') {
  return (fn: AnyFn, timeout = DEFAULT_TIMEOUT) => {
    current[kind].push(() => withTimeout(fn, timeout, `Hook ${kind}`));
  };
}
export const beforeAll = hook('beforeAll');
export const afterAll = hook('afterAll');
export const beforeEach = hook('beforeEach');
export const afterEach = hook('afterEach');

// ---- running -------------------------------------------------------------------------------------

interface SerializedError { message: string; stack?: string; diff?: string }
type Event =
  | { type: 'begin'; name: string; timeout: number }
  | { type: 'result'; name: string; state: 'pass' | 'fail' | 'skip'; ms: number; errors?: SerializedError[] }
  | { type: 'error'; name: string; error: SerializedError };

const report = (event: Event): Promise<void> => (globalThis as any).__report?.(event) ?? Promise.resolve();

function serialize(err: unknown): SerializedError {
  const e: any = processError(err);
  const message = `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(err)}`;
  return { message, stack: e?.stack, diff: e?.diff };
}

async function withTimeout(fn: AnyFn, ms: number, what: string, ...args: unknown[]): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `${what} timed out in ${ms}ms.\nIf this is a long-running test, pass a timeout value as the last argument or configure testTimeout.`,
    )), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(...args)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const fullName = (path: string[]) => path.filter(Boolean).join(' > ');

function willRun(node: Test | Suite, inOnly: boolean): boolean {
  if (node.mode === 'skip' || node.mode === 'todo') return false;
  const only = inOnly || node.mode === 'only' || !hasOnly;
  if (node.kind === 'test') return only;
  return node.children.some((c) => willRun(c, only || node.mode === 'only'));
}

// Runs one hook list, returning teardowns that the hooks handed back.
async function runHooks(hooks: AnyFn[], errors: unknown[]): Promise<AnyFn[]> {
  const teardowns: AnyFn[] = [];
  for (const h of hooks) {
    try {
      const r = await h();
      if (typeof r === 'function') teardowns.unshift(r);
    } catch (e) {
      errors.push(e);
    }
  }
  return teardowns;
}

function skipAll(node: Test | Suite, path: string[]): Promise<unknown> {
  if (node.kind === 'test') return report({ type: 'result', name: fullName([...path, node.name]), state: 'skip', ms: 0 });
  return node.children.reduce<Promise<unknown>>((p, c) => p.then(() => skipAll(c, [...path, node.name])), Promise.resolve());
}

async function runTest(t: Test, path: string[], chain: Suite[]): Promise<void> {
  const name = fullName([...path, t.name]);
  await report({ type: 'begin', name, timeout: t.timeout });
  const errors: unknown[] = [];
  const start = performance.now();
  expectImpl.setState({
    assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null, currentTestName: name,
  });
  const teardowns = await runHooks(chain.flatMap((s) => s.beforeEach), errors);
  if (!errors.length) {
    try {
      await withTimeout(t.fn!, t.timeout, 'Test', { expect, task: { name: t.name } });
      const { assertionCalls, isExpectingAssertions, expectedAssertionsNumber } = expectImpl.getState();
      if (expectedAssertionsNumber !== null && assertionCalls !== expectedAssertionsNumber) {
        throw new Error(`expected number of assertions to be ${expectedAssertionsNumber}, but got ${assertionCalls}`);
      }
      if (isExpectingAssertions && assertionCalls === 0) throw new Error('expected any number of assertion, but got none');
    } catch (e) {
      errors.push(e);
    }
  }
  await runHooks(teardowns, errors);
  await runHooks([...chain].reverse().flatMap((s) => [...s.afterEach].reverse()), errors);
  const ms = Math.round(performance.now() - start);
  await report({ type: 'result', name, state: errors.length ? 'fail' : 'pass', ms, errors: errors.map(serialize) });
}

async function runSuite(s: Suite, path: string[], chain: Suite[], inOnly: boolean): Promise<void> {
  const here = s === root ? path : [...path, s.name];
  const only = inOnly || s.mode === 'only';
  if (!willRun(s, inOnly)) return void (await skipAll(s, path));
  await report({ type: 'begin', name: `${fullName(here) || 'file'} (beforeAll)`, timeout: DEFAULT_TIMEOUT });
  const errors: unknown[] = [];
  const teardowns = await runHooks(s.beforeAll, errors);
  for (const c of s.children) {
    if (errors.length || !willRun(c, only)) {
      // A failed beforeAll fails every test it guards, with the hook's error.
      if (errors.length && c.kind === 'test' && willRun(c, only)) {
        await report({ type: 'result', name: fullName([...here, c.name]), state: 'fail', ms: 0, errors: errors.map(serialize) });
      } else if (errors.length && c.kind === 'suite' && willRun(c, only)) {
        await failAll(c, here, errors);
      } else {
        await skipAll(c, here);
      }
    } else if (c.kind === 'test') {
      await runTest(c, here, [...chain, s]);
    } else {
      await runSuite(c, here, [...chain, s], only);
    }
  }
  await report({ type: 'begin', name: `${fullName(here) || 'file'} (afterAll)`, timeout: DEFAULT_TIMEOUT });
  const afterErrors: unknown[] = [];
  await runHooks(teardowns, afterErrors);
  await runHooks([...s.afterAll].reverse(), afterErrors);
  for (const e of afterErrors) await report({ type: 'error', name: `${fullName(here) || 'file'} (afterAll)`, error: serialize(e) });
}

async function failAll(s: Suite, path: string[], errors: unknown[]): Promise<void> {
  for (const c of s.children) {
    if (c.kind === 'suite') await failAll(c, [...path, s.name], errors);
    else await report({ type: 'result', name: fullName([...path, s.name, c.name]), state: 'fail', ms: 0, errors: errors.map(serialize) });
  }
}

// Errors nobody awaited fail the run, as they do under vitest: through the page's events in
// Chromium, through the process's in Node (test/bundled/run.mjs runs the same bundles there).
const uncaught = (err: unknown) => void report({ type: 'error', name: 'uncaught error', error: serialize(err) });
const unhandled = (reason: unknown) => void report({ type: 'error', name: 'unhandled rejection', error: serialize(reason) });
if (typeof addEventListener === 'function') {
  addEventListener('error', (e) => uncaught(e.error ?? e.message));
  addEventListener('unhandledrejection', (e) => unhandled(e.reason));
} else {
  const proc = (globalThis as any).process;
  proc.on('uncaughtException', uncaught);
  proc.on('unhandledRejection', unhandled);
}

(globalThis as any).__vitestShim = { run: () => runSuite(root, [], [], false) };
