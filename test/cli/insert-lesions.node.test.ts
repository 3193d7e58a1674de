// `screener insert-lesions` on a tiny data folder written here: the files of every case, the source's
// grid, affine and voxel type kept, its own lesion mask not carried over, a case with no room
// reported, and the refusals (--out inside --data, an --out that already holds cases, a corrupt scan or
// one without air, found before anything is written).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/run-command';
import { insertLesionsCommand } from '../../src/cli/commands/insert-lesions';
import { affineFromRows } from '../../src/data/geometry/volume';
import { readNifti, writeNifti } from '../../src/data/io/files.node';
import { syntheticCt } from '../helpers/synthetic-ct';

const root = mkdtempSync(join(tmpdir(), 'screener-insert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data');
const out = join(root, 'inserted');

/** Runs the command in-process, capturing what it prints. */
const run = (argv: string[]) => runCommand(insertLesionsCommand, argv);

beforeAll(() => {
  // case_a: int16, a plain diagonal affine, with a source lesion mask that must not be carried over.
  const a = syntheticCt([20, 40, 44], [3, 2, 1.8], 1);
  writeNifti(join(data, 'case_a', 'ct.nii.gz'), a.ct, { datatype: 'int16' });
  const sourceLesion = new Uint8Array(a.ct.data.length);
  for (let i = 0; i < 400; i++) sourceLesion[8 * 40 * 44 + i] = 1;
  writeNifti(join(data, 'case_a', 'lesion.nii.gz'), { ...a.ct, data: sourceLesion }, { datatype: 'uint8' });
  // group/case_b: float32, an oblique-free but axis-swapped, flipped affine, stored in the qform only.
  const b = syntheticCt([20, 40, 44], [3, 2, 1.8], 2);
  const affine = affineFromRows([[0, 0, -1.8, 50], [0, -2, 0, 30], [3, 0, 0, -20]]);
  writeNifti(join(data, 'group', 'case_b', 'ct.nii.gz'), { ...b.ct, data: Float32Array.from(b.ct.data), affine }, { datatype: 'float32', sformCode: 0 });
  // case_c: nothing but air, so no lesion fits.
  writeNifti(join(data, 'case_c', 'ct.nii.gz'), { ...a.ct, data: new Int16Array(a.ct.data.length).fill(-1024) }, { datatype: 'int16' });
});

describe('screener insert-lesions', () => {
  it('writes every case on its source grid, with a mask of the inserted lesions only and case.json', async () => {
    const { code, out: printed } = await run(['--data', data, '--out', out, '--seed', '5', '--per-case', '3', '--png']);
    expect(code).toBe(0);
    const summary = printed.match(/^3 cases: (\d+) (lesions?) placed, diameters [\d.]+-[\d.]+ mm, \d+ skipped; written to /m);
    expect(summary).not.toBeNull();
    // The noun agrees with the count: "1 lesion", otherwise "lesions".
    expect(summary![2]).toBe(summary![1] === '1' ? 'lesion' : 'lesions');
    for (const id of ['case_a', 'group/case_b']) {
      const sourcePath = join(data, id, 'ct.nii.gz');
      const source = readNifti(sourcePath);
      const ct = readNifti(join(out, id, 'ct.nii.gz'));
      expect(ct.shape).toEqual(source.shape);
      expect(Array.from(ct.affine)).toEqual(Array.from(source.affine));
      expect(ct.datatype).toBe(source.datatype);
      expect([ct.qformCode, ct.sformCode]).toEqual([source.qformCode, source.sformCode]);
      const mask = readNifti(join(out, id, 'lesion.nii.gz'));
      expect(mask.datatype).toBe('uint8');
      expect(mask.shape).toEqual(source.shape);
      expect(Array.from(mask.affine)).toEqual(Array.from(source.affine));
      const meta = JSON.parse(readFileSync(join(out, id, 'case.json'), 'utf8'));
      expect(meta).toMatchObject({ generator: 'screener insert-lesions', case: id, source: sourcePath, seed: 5, datatype: source.datatype });
      expect(meta.placed).toBe(meta.lesions.length);
      expect(meta.placed + meta.skipped.length).toBe(meta.requested);
      expect(meta.placed).toBeGreaterThanOrEqual(1);
      let set = 0;
      for (const v of mask.data) set += v === 1 ? 1 : 0;
      expect(mask.data.every((v) => v === 0 || v === 1)).toBe(true);
      expect(set).toBe(meta.lesions.reduce((n: number, l: { voxels: number }) => n + l.voxels, 0));
      for (const lesion of meta.lesions) {
        for (const key of ['centreVoxel', 'centreMm', 'radiiMm']) expect(lesion[key]).toHaveLength(3);
        expect(lesion.rotation).toHaveLength(3);
        expect(typeof lesion.huShift).toBe('number');
        expect(lesion.texture).toEqual({ stdHu: expect.any(Number), correlationMm: expect.any(Number) });
        expect(existsSync(join(out, id, `lesion_${lesion.index}.png`))).toBe(true);
      }
      // The scan changed only where lesions are (their masks and soft edges): most voxels are as they were.
      let changed = 0;
      for (let i = 0; i < ct.data.length; i++) if (ct.data[i] !== source.data[i]) changed++;
      expect(changed).toBeGreaterThanOrEqual(set * 0.5);
      expect(changed).toBeLessThan(ct.data.length * 0.2);
    }
    // The source's own lesion (a radiotherapy target in OpenKBP) is not carried over.
    const sourceLesion = readNifti(join(data, 'case_a', 'lesion.nii.gz')).data;
    const inserted = readNifti(join(out, 'case_a', 'lesion.nii.gz')).data;
    expect(inserted.some((v, i) => v !== sourceLesion[i])).toBe(true);
    // No room: the case is written unchanged, without a mask, and case.json says why.
    const meta = JSON.parse(readFileSync(join(out, 'case_c', 'case.json'), 'utf8'));
    expect(meta.placed).toBe(0);
    expect(meta.skipped[0].reason).toMatch(/no body/);
    expect(existsSync(join(out, 'case_c', 'lesion.nii.gz'))).toBe(false);
    expect(Array.from(readNifti(join(out, 'case_c', 'ct.nii.gz')).data)).toEqual(Array.from(readNifti(join(data, 'case_c', 'ct.nii.gz')).data));
    expect(JSON.parse(readFileSync(join(out, 'insert-lesions.json'), 'utf8'))).toMatchObject({ seed: 5, perCase: 3, cases: 3 });
  });

  it('refuses an --out that holds cases without --force; with it, writes the same bytes again', async () => {
    const before = readFileSync(join(out, 'case_a', 'ct.nii.gz'));
    await expect(run(['--data', data, '--out', out, '--seed', '5', '--per-case', '3'])).rejects.toThrow(/inserted: already holds 3 cases.*--force/);
    const { code } = await run(['--data', data, '--out', out, '--seed', '5', '--per-case', '3', '--force']);
    expect(code).toBe(0);
    expect(readFileSync(join(out, 'case_a', 'ct.nii.gz')).equals(before)).toBe(true);
    // Another seed gives another scan.
    const other = join(root, 'other-seed');
    await run(['--data', data, '--out', other, '--seed', '6', '--per-case', '3', '--limit', '1']);
    expect(readFileSync(join(other, 'case_a', 'ct.nii.gz')).equals(before)).toBe(false);
    expect(existsSync(join(other, 'group'))).toBe(false);
  });

  it('never replaces cases it did not write, even with --force', async () => {
    const foreign = join(root, 'foreign');
    mkdirSync(join(foreign, 'mine'), { recursive: true });
    writeFileSync(join(foreign, 'mine', 'ct.nii.gz'), readFileSync(join(data, 'case_a', 'ct.nii.gz')));
    await expect(run(['--data', data, '--out', foreign, '--force'])).rejects.toThrow(/not written by insert-lesions/);
    expect(existsSync(join(foreign, 'mine', 'ct.nii.gz'))).toBe(true);
  });

  it('refuses an --out inside --data, equal to it, or holding it', async () => {
    await expect(run(['--data', data, '--out', join(data, 'inserted')])).rejects.toThrow(/inside --data/);
    await expect(run(['--data', data, '--out', data])).rejects.toThrow(/inside --data/);
    await expect(run(['--data', join(data, 'group'), '--out', data])).rejects.toThrow(/--data .* lies inside --out/);
    expect(existsSync(join(data, 'inserted'))).toBe(false);
    await expect(run(['--out', out])).rejects.toThrow(/--data is required/);
    await expect(run(['--data', data, '--out', join(root, 'x'), '--per-case', '0'])).rejects.toThrow(/--per-case/);
  });

  it('names the file of a corrupt scan', async () => {
    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'case_x'), { recursive: true });
    writeFileSync(join(bad, 'case_x', 'ct.nii.gz'), new Uint8Array([1, 2, 3, 4]));
    await expect(run(['--data', bad, '--out', join(root, 'bad-out')])).rejects.toThrow(/case_x[\\/]ct\.nii\.gz: truncated/);
    expect(existsSync(join(root, 'bad-out', 'case_x', 'ct.nii.gz'))).toBe(false);
  });

  it('refuses a scan without air before writing any case; --force-geometry inserts into it', async () => {
    const mixed = join(root, 'mixed');
    const good = syntheticCt([20, 40, 44], [3, 2, 1.8], 3);
    writeNifti(join(mixed, 'case_1', 'ct.nii.gz'), good.ct, { datatype: 'int16' });
    // Sorted after case_1: a run that checked each scan only when it came to it would have written case_1.
    writeNifti(join(mixed, 'case_2', 'ct.nii.gz'), { ...good.ct, data: Float32Array.from(good.ct.data, (hu) => hu + 1024) }, { datatype: 'float32' });
    const mixedOut = join(root, 'mixed-out');
    await expect(run(['--data', mixed, '--out', mixedOut])).rejects.toThrow(/case_2[\\/]ct\.nii\.gz: no voxel is air: .*; --force-geometry takes it anyway/);
    expect(existsSync(mixedOut)).toBe(false);
    const forced = await run(['--data', mixed, '--out', mixedOut, '--force-geometry']);
    expect(forced.code).toBe(0);
    expect(existsSync(join(mixedOut, 'case_2', 'ct.nii.gz'))).toBe(true);
  });
});
