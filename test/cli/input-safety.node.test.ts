// What the commands do with their files before any work: an output never replaces an input or an
// earlier result it was not asked to, an unwritable output is found at once, implausible scan geometry
// and stray or malformed arguments are refused, a new training run does not overwrite an earlier
// run's checkpoint, and a run stopped by SIGTERM leaves no temporary file behind.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyModel } from '../helpers/tiny-model.node';
import { runCommand } from '../helpers/run-command';
import { info } from '../../src/cli/commands/info';
import { predict } from '../../src/cli/commands/predict';
import { train } from '../../src/cli/commands/train';
import { affineFromRows, affineRows, type Volume, type VoxelArray } from '../../src/data/geometry/volume';
import { niftiFileBytes, writeNifti } from '../../src/data/io/files.node';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { writePhantomCase } from '../../src/data/phantom/write.node';

const execFileP = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'screener-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modelPath = join(root, 'tiny.safetensors');
const data = join(root, 'phantoms');
const ctPath = join(data, 'case_0', 'ct.nii.gz');
let ct: Volume<VoxelArray>;

beforeAll(async () => {
  if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  // A tiny random model at 20 mm: a 32-voxel phantom is a handful of 16^3 windows (see the eval tests).
  await writeTinyModel(modelPath, 20);
  const phantom = generatePhantom({ seed: 4, lesions: ['liver_hypodense'], size: 32 });
  ct = phantom.ct;
  writePhantomCase(join(data, 'case_0'), phantom);
});

const run = runCommand;

/** The CT with its affine (spacing and offset) multiplied by `factor`. */
function scaled(factor: number): Volume<VoxelArray> {
  const affine = affineFromRows(affineRows(ct.affine).slice(0, 3).map((row) => row.map((v) => v * factor)));
  return { ...ct, affine, spacing: ct.spacing.map((s) => s * factor) as [number, number, number] };
}

describe('predict never replaces what it reads', () => {
  it('refuses an output that is the input, directly or through a link', async () => {
    const before = readFileSync(ctPath);
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', ctPath])).rejects.toThrow(/ct\.nii\.gz: --out is the same file as --in .*an output never replaces an input/);
    const link = join(root, 'link-to-ct.nii.gz');
    symlinkSync(ctPath, link);
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', link])).rejects.toThrow(/link-to-ct\.nii\.gz: --out is the same file as --in/);
    expect(readFileSync(ctPath)).toEqual(before);
  });

  it('takes only a .png for --png, and refuses one that is the input or the map', async () => {
    const map = join(root, 'png-case', 'map.nii.gz');
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', map, '--png', ctPath])).rejects.toThrow(/--png must end in \.png, got ".*ct\.nii\.gz"/);
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', map, '--png', map])).rejects.toThrow(/--png must end in \.png/);
    // A .png name that is a link to the map (not written yet) or to the input is the same file.
    mkdirSync(join(root, 'png-case'), { recursive: true });
    symlinkSync(map, join(root, 'png-case', 'to-map.png'));
    symlinkSync(ctPath, join(root, 'png-case', 'to-ct.png'));
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', map, '--png', join(root, 'png-case', 'to-map.png')])).rejects.toThrow(
      /to-map\.png: --png is the same file as --out/,
    );
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', map, '--png', join(root, 'png-case', 'to-ct.png')])).rejects.toThrow(
      /to-ct\.png: --png is the same file as --in/,
    );
    expect(existsSync(map)).toBe(false);
  });

  it('finds an unwritable --out before any work, naming the user\'s path', async () => {
    const blocker = join(root, 'not-a-folder');
    writeFileSync(blocker, 'a file where the output folder should be');
    const out = join(blocker, 'map.nii.gz');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await expect(predict.run(['--model', modelPath, '--in', ctPath, '--out', out])).rejects.toThrow(
        /not-a-folder[\\/]map\.nii\.gz: cannot write --out: .*not-a-folder is a file, not a folder/,
      );
      // It failed before the model was loaded (which prints "model: ...") and before any window.
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces an existing map only with --force', async () => {
    const out = join(root, 'forced', 'map.nii.gz');
    const first = await run(predict, ['--model', modelPath, '--in', ctPath, '--out', out]);
    expect(first.code).toBe(0);
    expect(first.errors.some((l) => l.startsWith('model: '))).toBe(true);
    await expect(run(predict, ['--model', modelPath, '--in', ctPath, '--out', out])).rejects.toThrow(/map\.nii\.gz: --out already exists; pass --force to replace it/);
    expect((await run(predict, ['--model', modelPath, '--in', ctPath, '--out', out, '--force'])).code).toBe(0);
    expect(readdirSync(join(root, 'forced'))).toEqual(['map.nii.gz']);
  });
});

describe('scan geometry', () => {
  it('refuses voxels 1000 times too small or 100 times too large, with the numbers, before any work', async () => {
    const small = join(root, 'geometry', 'small.nii.gz');
    const large = join(root, 'geometry', 'large.nii.gz');
    writeNifti(small, scaled(0.001));
    writeNifti(large, scaled(100));
    const out = join(root, 'geometry', 'map.nii.gz');
    await expect(run(predict, ['--model', modelPath, '--in', small, '--out', out])).rejects.toThrow(
      /small\.nii\.gz: voxel size 0\.0\d+ x 0\.0\d+ x 0\.0\d+ mm \(D x H x W\) is outside what a CT can be \(0\.1 to 20 mm per axis\); --force-geometry scores it anyway/,
    );
    await expect(run(predict, ['--model', modelPath, '--in', large, '--out', out])).rejects.toThrow(/large\.nii\.gz: voxel size \d+(\.\d+)? x .* is outside what a CT can be/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a scan without air (values stored without their rescale), names the file, writes nothing; --force-geometry scores it', async () => {
    const raw = join(root, 'values', 'raw.nii.gz');
    writeNifti(raw, { ...ct, data: Float32Array.from(ct.data, (hu) => hu + 1024) });
    const out = join(root, 'values', 'map.nii.gz');
    await expect(run(predict, ['--model', modelPath, '--in', raw, '--out', out])).rejects.toThrow(
      /raw\.nii\.gz: no voxel is air: the lowest value is \d+, where a CT in Hounsfield units has air at about -1000 .*; --force-geometry scores it anyway/,
    );
    expect(readdirSync(join(root, 'values'))).toEqual(['raw.nii.gz']);
    expect((await run(predict, ['--model', modelPath, '--in', raw, '--out', out, '--force-geometry'])).code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('reads a scan stored in metres at its size in millimetres', async () => {
    mkdirSync(join(root, 'units'), { recursive: true });
    const metres = join(root, 'units', 'metres.nii');
    const bytes = niftiFileBytes(metres, scaled(0.001));
    bytes[123] = 1 | 8; // xyzt_units: metres, seconds
    writeFileSync(metres, bytes);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
    try {
      expect(await info.run([metres])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const spacing = /spacing +([\d.]+) x ([\d.]+) x ([\d.]+) mm/.exec(lines.join('\n'))!.slice(1).map(Number);
    spacing.forEach((mm, a) => expect(mm).toBeCloseTo(ct.spacing[a]!, 2)); // about 10 mm, not 0.01
  });
});

describe('the command line', () => {
  it('refuses stray positional arguments and numbers that are not decimal, with the usage', async () => {
    const cli = (args: string[]) => execFileP(process.execPath, ['dist/cli.js', ...args], { timeout: 60_000 });
    await expect(cli(['predict', '--model', modelPath, '--in', ctPath, '--out', join(root, 'x.nii.gz'), 'extra.nii.gz'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unexpected argument "extra\.nii\.gz"[\s\S]*usage: screener predict/),
    });
    await expect(cli(['train', '--data', data, '--out', join(root, 'm.safetensors'), '--steps', '0x10'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--steps must be a decimal integer, got "0x10"[\s\S]*usage: screener train/),
    });
    await expect(cli(['predict', '--model', modelPath, '--in', ctPath, '--out', join(root, 'x.nii.gz'), '--overlap', '0x0'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--overlap must be a decimal number, got "0x0"/),
    });
  });

  it('does not start a new training run over an earlier run\'s checkpoint', async () => {
    const out = join(root, 'train', 'model.safetensors');
    const checkpoint = join(root, 'train', 'model.checkpoint.safetensors');
    mkdirSync(join(root, 'train'), { recursive: true });
    writeFileSync(checkpoint, 'the earlier run');
    const argv = ['--data', data, '--out', out, '--preset', 'tiny', '--steps', '1', '--cache', join(root, 'cache')];
    await expect(run(train, argv)).rejects.toThrow(
      /model\.checkpoint\.safetensors: a checkpoint of an earlier run is here: continue that run with --resume, or start a new one over it with --force/,
    );
    expect(readFileSync(checkpoint, 'utf8')).toBe('the earlier run');
    expect(existsSync(out)).toBe(false);
  });

  it('removes its temporary output file when stopped by SIGTERM', async () => {
    const dir = join(root, 'sigterm');
    // The temporary file is there from before the GPU starts until the last window is done.
    const child = spawn(process.execPath, ['dist/cli.js', 'predict', '--model', modelPath, '--in', ctPath, '--out', join(dir, 'map.nii.gz')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const temporary = () => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.tmp')) : []);
    const started = Date.now();
    while (temporary().length === 0 && child.exitCode === null && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 10));
    expect(temporary(), stderr).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/stopped by SIGTERM/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
