// The bundled suite (test/bundled/build.mjs + run.mjs) is what a GPU machine without npm packages
// runs: check here that it bundles test files for plain Node and reports each outcome and the exit
// status as vitest would.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Inside the project (dist/ is ignored by git), where the bundles resolve Dawn's `webgpu` package.
mkdirSync('dist', { recursive: true });
const dir = mkdtempSync(join('dist', 'tests-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bundleAndRun(files: string[]): { status: number | null; report: any; output: string } {
  const built = spawnSync(process.execPath, ['test/bundled/build.mjs', '--out', dir, ...files], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  const run = spawnSync(process.execPath, [join(dir, 'run.mjs'), '--json', join(dir, 'report.json')], { encoding: 'utf8' });
  return { status: run.status, report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')), output: run.stdout + run.stderr };
}

describe('bundled test suite', () => {
  it('reports passes, failures with their message, and skips, and exits non-zero on a failure', () => {
    const { status, report, output } = bundleAndRun(['test/bundled/fixtures/outcomes.fixture.ts']);
    expect(status, output).toBe(1);
    expect([report.passed, report.failed, report.skipped]).toEqual([1, 1, 1]);
    expect(report.results[0].failures[0].name).toBe('outcomes > fails');
    expect(report.results[0].failures[0].message).toContain('expected [ 1, 2 ] to deeply equal [ 1, 3 ]');
  });

  it('runs a GPU test file on the adapter with every test passing', () => {
    const { status, report, output } = bundleAndRun(['/random.test.ts']);
    expect(status, output).toBe(0);
    expect(report.failed).toBe(0);
    expect(report.passed).toBeGreaterThan(0);
  });
});
