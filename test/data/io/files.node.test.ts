// Disk-side data handling: atomic NIfTI writes, folder datasets, and the `info`, `phantom` and
// `scan-data` commands run in-process (the preprocessed cache: test/data/preprocess/cache.node.test.ts).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../helpers/run-command';
import { toyCt, writeToyDataset } from '../../helpers/toy-dataset.node';
import { writeTinyModel } from '../../helpers/tiny-model.node';
import { info } from '../../../src/cli/commands/info';
import { phantom } from '../../../src/cli/commands/phantom';
import { scanData } from '../../../src/cli/commands/scan-data';
import { listCases, loadCase } from '../../../src/data/io/dataset.node';
import { discardPendingFiles, PendingFile } from '../../../src/data/io/atomic-write.node';
import { readFileBytes, readMask, readNifti, writeFileAtomic, writeNifti } from '../../../src/data/io/files.node';
import { decodeSafetensors, encodeSafetensors } from '../../../src/model/safetensors';

const root = mkdtempSync(join(tmpdir(), 'screener-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = runCommand;

describe('files', () => {
  it('writes atomically (no temporary file left) and reads back', () => {
    const path = join(root, 'single', 'ct.nii.gz');
    writeNifti(path, toyCt());
    expect(readdirSync(join(root, 'single'))).toEqual(['ct.nii.gz']);
    const back = readNifti(path);
    expect(Array.from(back.data)).toEqual(Array.from(toyCt().data));
    writeNifti(join(root, 'single', 'plain.nii'), toyCt());
    expect(readFileSync(join(root, 'single', 'plain.nii'))[0]).toBe(92); // sizeof_hdr 348 = 0x15c, not gzip
    // Whole-file reads are plain Uint8Arrays (a Buffer's slice() would share memory), same bytes.
    const bytes = readFileBytes(join(root, 'single', 'plain.nii'));
    expect(bytes.constructor).toBe(Uint8Array);
    expect(Array.from(bytes)).toEqual(Array.from(readFileSync(join(root, 'single', 'plain.nii'))));
    expect(bytes.slice(0, 4).buffer).not.toBe(bytes.buffer);
  });

  it('leaves nothing behind when a write fails', () => {
    const bad = { ...toyCt(), data: new Float32Array(1680).fill(1e6) };
    expect(() => writeNifti(join(root, 'failed', 'x.nii.gz'), bad, { datatype: 'int16' })).toThrow(/x\.nii\.gz: .*does not fit int16/);
    expect(() => readdirSync(join(root, 'failed'))).toThrow();
  });

  it('removes a reserved file and the folders made for it when it is discarded, and names the user\'s path on errors', () => {
    const path = join(root, 'reserved', 'deep', 'map.nii.gz');
    const file = PendingFile.reserve(path);
    expect(readdirSync(join(root, 'reserved', 'deep'))).toEqual([expect.stringMatching(/^\.map\.nii\.gz\..*\.tmp$/)]);
    discardPendingFiles();
    expect(existsSync(join(root, 'reserved'))).toBe(false);
    expect(() => file.commit(new Uint8Array(4))).toThrow(/map\.nii\.gz: already committed or discarded/);
    writeFileSync(join(root, 'plain-file'), 'x');
    expect(() => writeFileAtomic(join(root, 'plain-file', 'out.png'), new Uint8Array(4))).toThrow(/plain-file[\\/]out\.png: cannot create its folder .*plain-file \(E/);
  });

  it('reads masks against their CT and names the file on errors', () => {
    const ct = toyCt();
    const mask = { ...ct, data: new Uint8Array(ct.data.length) };
    writeNifti(join(root, 'masks', 'empty.nii.gz'), mask);
    expect(() => readMask(join(root, 'masks', 'empty.nii.gz'), ct, 'ct.nii.gz')).toThrow(/empty\.nii\.gz: empty mask/);
    writeNifti(join(root, 'masks', 'small.nii.gz'), { ...toyCt([10, 12, 13]), data: new Uint8Array(1560).fill(1) });
    expect(() => readMask(join(root, 'masks', 'small.nii.gz'), ct, 'ct.nii.gz')).toThrow(/small\.nii\.gz: mask grid 10x12x13 differs from its CT ct\.nii\.gz/);
    expect(() => readNifti(join(root, 'missing.nii.gz'))).toThrow(/missing\.nii\.gz: no such file/);
    expect(() => readNifti(join(root, 'masks'))).toThrow(/masks: is a folder, not a file/);
    expect(() => readFileBytes(join(root, 'masks'))).toThrow(/masks: is a folder, not a file/);
  });
});

describe('datasets', () => {
  const data = join(root, 'dataset');
  beforeEach(() => writeToyDataset(data));
  afterEach(() => rmSync(data, { recursive: true, force: true }));

  it('lists cases at any depth, with optional lesions', () => {
    const cases = listCases(data);
    expect(cases.map((c) => c.id)).toEqual(['groupA/case1', 'groupB/nested/case2']);
    expect(cases[0]!.lesionPath).toMatch(/lesion\.nii\.gz$/);
    expect(cases[1]!.lesionPath).toBeUndefined();
    expect(loadCase(cases[0]!).lesion!.data.reduce((s, v) => s + v, 0)).toBe(48);
    expect(() => listCases(join(root, 'nope'))).toThrow(/nope: no such folder/);
  });

  it('scan-data prints one line per case and a summary', async () => {
    const { code, out } = await run(scanData, [data]);
    expect(code).toBe(0);
    expect(out).toMatch(/groupA\/case1 +10x12x14 +3 x 2 x 2 +LPS +-1000\.\.46 +48/);
    expect(out).toMatch(/groupB\/nested\/case2 .* -$/m);
    expect(out).toMatch(/2 cases, 1 with a lesion mask, 0 not plausibly a CT, 0 unreadable/);
    expect(out).not.toMatch(/note:/);
    const raw = { ...toyCt(), data: Float32Array.from(toyCt().data, (hu) => hu + 1024) };
    writeNifti(join(data, 'groupA', 'case1', 'ct.nii.gz'), raw); // raw scanner values: air at 24
    const implausible = await run(scanData, [data]);
    expect(implausible.code).toBe(0);
    expect(implausible.out).toMatch(/groupA\/case1 .*\n +note: no voxel is air: the lowest value is 24, /);
    expect(implausible.out).toMatch(/2 cases, 1 with a lesion mask, 1 not plausibly a CT, 0 unreadable/);
    writeFileSync(join(data, 'groupB', 'nested', 'case2', 'ct.nii.gz'), 'not a scan at all, just some text that is long enough');
    const broken = await run(scanData, [data]);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/case2 +ERROR .*ct\.nii\.gz: truncated/);
  });
});

describe('commands', () => {
  it('info describes scans and masks and fails clearly on bad files', async () => {
    const dir = join(root, 'info');
    writeNifti(join(dir, 'ct.nii.gz'), toyCt());
    const mask = { ...toyCt(), data: new Uint8Array(1680) };
    mask.data.fill(1, 0, 25);
    writeNifti(join(dir, 'mask.nii.gz'), mask);
    const ct = await run(info, [join(dir, 'ct.nii.gz')]);
    expect(ct.code).toBe(0);
    expect(ct.out).toMatch(/shape +10 x 12 x 14 \(D x H x W\)/);
    expect(ct.out).toMatch(/spacing +3 x 2 x 2 mm/);
    expect(ct.out).toMatch(/type +int16/);
    expect(ct.out).toMatch(/orientation +LPS/);
    expect(ct.out).toMatch(/range +-1000 \.\. 46 HU/);
    const m = await run(info, [join(dir, 'mask.nii.gz')]);
    expect(m.out).toMatch(/mask +25 voxels set \(0\.3 ml\)/);
    writeFileSync(join(dir, 'bad.nii'), new Uint8Array(100));
    await expect(info.run([join(dir, 'bad.nii')])).rejects.toThrow(/bad\.nii: truncated: 100 bytes/);
  });

  it('info describes a model file, checked as predict checks it, and names a file that is not a model', async () => {
    const model = 'models/tiny.safetensors';
    const { code, out } = await run(info, [model]);
    expect(code).toBe(0);
    expect(out).toMatch(/model +\w+ preset, masked condition, flow density, 16x16x16 windows at 4x4x4 mm/);
    expect(out).toMatch(/trained +descriptor, condition, density/);
    // The counts are the file's own, read here without the model code.
    const { tensors } = decodeSafetensors(readFileSync(model), model);
    const values = [...tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(out).toContain(`tensors     ${tensors.size}, ${values.toLocaleString('en-US')} values, all finite`);
    mkdirSync(join(root, 'info'), { recursive: true }); // runs alone too (vitest -t)
    const foreign = join(root, 'info', 'foreign.safetensors');
    writeFileSync(foreign, encodeSafetensors([['w', { shape: [2], data: Float32Array.of(1, 2) }]]));
    await expect(info.run([foreign])).rejects.toThrow(/foreign\.safetensors: not a Screener model/);
    // A model written straight after its draw has no trained stage.
    const untrained = join(root, 'info', 'untrained.safetensors');
    await writeTinyModel(untrained, 8);
    expect((await run(info, [untrained])).out).toMatch(/trained +no stage \(random weights\)/);
  });

  it('phantom writes the data-folder layout, the same bytes for the same seed', async () => {
    const a = join(root, 'ph-a');
    const b = join(root, 'ph-b');
    expect((await run(phantom, ['--out', a, '--n', '2', '--seed', '5', '--size', '40', '--png'])).code).toBe(0);
    expect((await run(phantom, ['--out', b, '--n', '2', '--seed', '5', '--size', '40'])).code).toBe(0);
    expect(readdirSync(a)).toEqual(['case_000', 'case_001']);
    // Cases already there are replaced only with --force.
    await expect(phantom.run(['--out', a, '--n', '1', '--size', '40'])).rejects.toThrow(/case_000[\\/]ct\.nii\.gz: --out already exists; pass --force to replace it/);
    expect((await run(phantom, ['--out', a, '--n', '1', '--seed', '5', '--size', '40', '--force'])).code).toBe(0);
    expect(readdirSync(join(a, 'case_000')).sort()).toEqual(['case.json', 'ct.nii.gz', 'lesion.nii.gz', 'lesion_kinds.nii.gz', 'montage.png']);
    for (const name of ['ct.nii.gz', 'lesion.nii.gz']) expect(readFileSync(join(a, 'case_001', name))).toEqual(readFileSync(join(b, 'case_001', name)));
    const meta = JSON.parse(readFileSync(join(a, 'case_000', 'case.json'), 'utf8'));
    expect(meta.heldOutKinds).toEqual(['splenic_infarct']);
    expect(meta.lesions.length).toBeGreaterThan(0);
    const cases = listCases(a);
    expect(cases.every((c) => c.lesionPath)).toBe(true);
    expect(loadCase(cases[0]!).lesion!.data.some((v) => v === 1)).toBe(true);

    const healthy = join(root, 'ph-healthy');
    await run(phantom, ['--out', healthy, '--n', '1', '--seed', '5', '--size', '40', '--healthy']);
    expect(readdirSync(join(healthy, 'case_000')).sort()).toEqual(['case.json', 'ct.nii.gz']);
    await expect(phantom.run(['--out', healthy, '--kinds', 'liver_hypodense,unicorn'])).rejects.toThrow(/unknown lesion kind "unicorn"/);
    await expect(phantom.run([])).rejects.toThrow(/--out is required/);
  });
});
