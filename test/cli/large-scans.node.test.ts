// `screener predict` on a large scan: its peak memory stays within three times the scan's voxel data
// over what a small scan costs (the process, the GPU runtime, the model), a file whose header
// declares too much is refused before it is read, and every phase reports its progress. The scans
// come from bench/large-scan.mjs, the generator of the big-scan measurement in bench/RESULTS.md.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyModel } from '../helpers/tiny-model.node';
import { predict } from '../../src/cli/commands/predict';
import { readNifti } from '../../src/data/io/files.node';

const execFileP = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'screener-large-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modelPath = join(root, 'tiny.safetensors');
const big = join(root, 'big.nii.gz');
const small = join(root, 'small.nii.gz');
// 256 x 256 x 200 int16: 26.2 MB of voxel data; the small scan covers the same extent with 64 x 64 x 50.
const BIG_VOXEL_BYTES = 256 * 256 * 200 * 2;

beforeAll(async () => {
  if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  // A tiny random model at 10 mm: both scans preprocess to about 28 x 28 x 40 voxels, a dozen windows
  // without overlap, so the GPU part is the same small cost for both and the difference is the scan's.
  await writeTinyModel(modelPath, 10);
  await execFileP(process.execPath, ['bench/large-scan.mjs', big, '256', '256', '200', '1.5', '2.0']);
  await execFileP(process.execPath, ['bench/large-scan.mjs', small, '64', '64', '50', '6', '8']);
}, 120_000);

/** Runs `screener predict` in a child process; its exit code, stderr and peak resident memory (bytes). */
function predictChild(input: string, out: string): Promise<{ code: number | null; stderr: string; peak: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', './test/helpers/report-max-rss.mjs', 'dist/cli.js', 'predict', '--model', modelPath, '--in', input, '--out', out, '--overlap', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const match = /max-rss-kb (\d+)/.exec(stderr);
      resolve({ code, stderr, peak: match ? Number(match[1]) * 1024 : NaN });
    });
  });
}

describe('predict on a large scan', () => {
  it('peaks within 3x the voxel data over a small scan, and shows every phase with an ETA from the windows done', async () => {
    const smallRun = await predictChild(small, join(root, 'small-map.nii.gz'));
    expect(smallRun.code, smallRun.stderr).toBe(0);
    const bigRun = await predictChild(big, join(root, 'big-map.nii.gz'));
    expect(bigRun.code, bigRun.stderr).toBe(0);
    const extra = bigRun.peak - smallRun.peak;
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(`peak RSS: small scan ${mb(smallRun.peak)}, 256x256x200 int16 ${mb(bigRun.peak)}; extra ${mb(extra)} = ${(extra / BIG_VOXEL_BYTES).toFixed(2)}x its voxel data`);
    expect(extra).toBeLessThan(3 * BIG_VOXEL_BYTES);

    const map = readNifti(join(root, 'big-map.nii.gz'));
    expect(map.shape).toEqual([200, 256, 256]);
    expect(map.data.every(Number.isFinite)).toBe(true);

    // Every phase is named, each with a line when it completes.
    const lines = bigRun.stderr.split('\n');
    for (const phase of [/^reading \[#+\] [\d.]+\/[\d.]+ MiB/, /^preprocessing: body: largest component \[#+\] 100\/100 %/, /^preprocessing: resampling /, /^windows \[#+\] (\d+)\/\1 windows/, /^writing \[#+\] 200\/200 slices/]) {
      expect(lines.some((line) => phase.test(line)), `${phase} in\n${bigRun.stderr}`).toBe(true);
    }
    // Window lines carry a time left (how it is estimated is test/eval/progress.test.ts's business).
    for (const line of lines.filter((l) => /^windows \[/.test(l))) expect(line).toMatch(/ETA (\?|[\d.]+ s|\d+ min \d+ s)$/);
  }, 300_000);
});

describe('predict --max-scan-mb', () => {
  it('refuses a scan whose header declares more voxel data, naming the file, before reading it or writing anything', async () => {
    const out = join(root, 'refused', 'map.nii.gz');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(predict.run(['--model', modelPath, '--in', big, '--out', out, '--max-scan-mb', '20'])).rejects.toThrow(
        /big\.nii\.gz: the header declares 200x256x256 int16 voxels, 25 MiB of voxel data, over the limit of 20 MiB \(--max-scan-mb raises it\); refused before reading it/,
      );
      await expect(predict.run(['--model', modelPath, '--in', big, '--out', out, '--max-scan-mb', '0'])).rejects.toThrow(/--max-scan-mb must be at least 1/);
    } finally {
      stderr.mockRestore();
    }
    expect(existsSync(join(root, 'refused')) ? readdirSync(join(root, 'refused')) : []).toEqual([]);
  });
});
