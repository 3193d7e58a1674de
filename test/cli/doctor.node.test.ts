// The built command line: `screener doctor` names the adapter and both ceilings, and the process
// ends by itself (Dawn would otherwise keep it alive).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

beforeAll(() => {
  if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
});

describe('screener doctor', () => {
  it('prints JSON with the adapter, its limits and the two measured ceilings, then exits', async () => {
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'doctor', '--json'], { timeout: 90_000 });
    const report = JSON.parse(stdout);
    for (const key of ['vendor', 'architecture', 'description']) expect(typeof report.adapter[key]).toBe('string');
    expect(typeof report.adapter.software).toBe('boolean');
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(report.fmaGflops).toBeGreaterThan(0);
    expect(report.copyGBps).toBeGreaterThan(0);
    expect(report.boundsChecks).toBe(process.env.SCREENER_BOUNDS_CHECKS === 'on');
  });

  it('opens the device with run-time bounds checks when SCREENER_BOUNDS_CHECKS=on, and refuses other values', async () => {
    const env = (value: string) => ({ ...process.env, SCREENER_BOUNDS_CHECKS: value });
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'doctor', '--json'], { timeout: 90_000, env: env('on') });
    const report = JSON.parse(stdout);
    expect(report.boundsChecks).toBe(true);
    expect(report.fmaGflops).toBeGreaterThan(0);
    await expect(run(process.execPath, ['dist/cli.js', 'doctor'], { timeout: 60_000, env: env('yes') })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/SCREENER_BOUNDS_CHECKS must be on or off, not "yes"/),
    });
  });

  it('names the adapter and both ceilings in its text report', async () => {
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'doctor'], { timeout: 90_000 });
    expect(stdout).toMatch(/^adapter\s+\S.*\((software|hardware) adapter\)$/m);
    expect(stdout).toMatch(/fma ceiling\s+[\d.]+ GFLOP\/s/);
    expect(stdout).toMatch(/copy ceiling\s+[\d.]+ GB\/s/);
    expect(stdout).toMatch(/^bounds checks (on|off) /m);
  });

  it('fails with the install command when no adapter can be found', async () => {
    // Pointing the search at nothing: no GPU allowed and SwiftShader hidden behind a bad ICD path.
    const failure = run(process.execPath, ['dist/cli.js', 'doctor'], {
      timeout: 60_000,
      env: { ...process.env, SCREENER_ADAPTER: 'gpu', VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    });
    await expect(failure).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no hardware WebGPU adapter/) });
  });

  it('rejects an unknown option with usage and exit code 2', async () => {
    await expect(run(process.execPath, ['dist/cli.js', 'doctor', '--bogus'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown option --bogus[\s\S]*usage: screener doctor/),
    });
  });
});

describe('dist/engine.js', () => {
  it('has no import or require: it embeds anywhere with zero dependencies', () => {
    const engine = readFileSync('dist/engine.js', 'utf8');
    expect(engine).not.toMatch(/^\s*import\s.*from\s/m);
    expect(engine).not.toMatch(/\bimport\s*\(/);
    expect(engine).not.toMatch(/\brequire\s*\(/);
    expect(engine.length).toBeGreaterThan(1000);
  });
});
