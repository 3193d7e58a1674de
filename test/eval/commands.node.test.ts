// `screener predict`, `eval` and `demo` run in-process: a tiny random model end to end on small
// phantoms (maps on the input's grid and affine, the report's keys), and the bad-input errors.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../helpers/tiny-model.node';
import { runCommand } from '../helpers/run-command';
import { configure } from '../../src/cli/commands/configure';
import { demo, demoTrainingConfig } from '../../src/cli/commands/demo';
import { evaluate } from '../../src/cli/commands/eval';
import { insertLesionsCommand } from '../../src/cli/commands/insert-lesions';
import { predict } from '../../src/cli/commands/predict';
import { train } from '../../src/cli/commands/train';
import { readNifti, writeNifti } from '../../src/data/io/files.node';
import { affineFromRows, affineRows } from '../../src/data/geometry/volume';
import { phantomCaseSeed } from '../../src/data/phantom/cases';
import { generatePhantom, phantomWithoutLesions } from '../../src/data/phantom/phantom';
import { writePhantomCase } from '../../src/data/phantom/write.node';
import { screenerConfigOf } from '../../src/model/screener';
import { decodeSafetensors, tensorToFloat32 } from '../../src/model/safetensors';
import { smoothAnomalyMap } from '../../src/model/map-smoothing';
import { anomalyOnOriginalGrid, predictModelMap } from '../../src/model/predict';
import { loadScreener } from '../../src/model/predict-load.node';
import { preprocessCt } from '../../src/data/preprocess/preprocess';
import { expectClose } from '../helpers/reference';
import { resolvePreprocessOptions } from '../../src/data/preprocess/preprocess';
import { configPreprocessing } from '../../src/model/config';
import { runEvaluation } from '../../src/eval/run.node';
import { withCombination } from '../../src/eval/combined-scorer';
import type { AnomalyScorer } from '../../src/eval/scorers';
import { nodeRuntime } from '../../src/gpu/node';

const root = mkdtempSync(join(tmpdir(), 'screener-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modelPath = join(root, 'tiny.safetensors');
const data = join(root, 'phantoms');
const healthy = join(root, 'healthy');

beforeAll(async () => {
  // At 20 mm a 32-voxel phantom preprocesses to about 17x15x17 voxels.
  await writeTinyModel(modelPath, 20);
  for (let i = 0; i < 2; i++) {
    const seed = phantomCaseSeed(11, i);
    writePhantomCase(join(data, `case_${i}`), generatePhantom({ seed, lesions: ['splenic_infarct', 'liver_hyperdense'], size: 32 }));
    writePhantomCase(join(healthy, `case_${i}`), generatePhantom({ seed: seed + 1, healthy: true, size: 32 }));
  }
});

const run = runCommand;

describe('screener predict', () => {
  it('writes a finite map on the input grid and affine, the body minimum outside the body, and a PNG', async () => {
    const input = join(data, 'case_0', 'ct.nii.gz');
    const out = join(root, 'out', 'anomaly.nii.gz');
    const png = join(root, 'out', 'overlay.png');
    const { code, out: printed } = await run(predict, ['--model', modelPath, '--in', input, '--out', out, '--png', png]);
    expect(code).toBe(0);
    expect(printed).toMatch(/anomaly\.nii\.gz: \d+x\d+x\d+ map, scores .* [\d.]+ s, \d+ windows, [\d,]+ voxels\/s/);
    const ct = readNifti(input);
    const map = readNifti(out);
    expect(map.shape).toEqual(ct.shape);
    expect(Array.from(map.affine)).toEqual(Array.from(ct.affine));
    expect(map.data.every(Number.isFinite)).toBe(true);
    // Air around the body holds the lowest score; the body holds more than one value.
    const corner = map.data[0]!;
    expect(Math.min(...map.data)).toBe(corner);
    expect(new Set(map.data).size).toBeGreaterThan(10);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('names the missing file: input, then model', async () => {
    await expect(run(predict, ['--model', modelPath, '--in', join(root, 'nope.nii.gz'), '--out', join(root, 'x.nii.gz')])).rejects.toThrow(/nope\.nii\.gz: no such file/);
    const input = join(data, 'case_0', 'ct.nii.gz');
    await expect(run(predict, ['--model', join(root, 'none.safetensors'), '--in', input, '--out', join(root, 'x.nii.gz')])).rejects.toThrow(
      /none\.safetensors: no such model file .*screener train/,
    );
    expect(existsSync(join(root, 'x.nii.gz'))).toBe(false);
  });

  it('refuses a file that is not a model, and bad options', async () => {
    const input = join(data, 'case_0', 'ct.nii.gz');
    await expect(run(predict, ['--model', input, '--in', input, '--out', join(root, 'x.nii.gz')])).rejects.toThrow(/ct\.nii\.gz/);
    await expect(run(predict, ['--model', modelPath, '--in', input, '--out', join(root, 'x.png')])).rejects.toThrow(/--out must end in \.nii/);
    await expect(run(predict, ['--model', modelPath, '--in', input])).rejects.toThrow(/--out is required/);
    await expect(run(predict, ['--model', modelPath, '--in', input, '--out', join(root, 'x.nii'), '--overlap', '1'])).rejects.toThrow(/--overlap/);
  });
});

describe('screener predict --score', () => {
  it('writes the latent energy instead of the NLL when asked, says so in the log and the header, and refuses other scores', async () => {
    const input = join(data, 'case_0', 'ct.nii.gz');
    const maps = { nll: join(root, 'score', 'nll.nii.gz'), latent: join(root, 'score', 'latent.nii.gz') };
    expect((await run(predict, ['--model', modelPath, '--in', input, '--out', maps.nll, '--overlap', '0'])).code).toBe(0);
    const { code, err } = await run(predict, ['--model', modelPath, '--in', input, '--out', maps.latent, '--overlap', '0', '--score', 'latent']);
    expect(code).toBe(0);
    expect(err).toMatch(/model: .*, latent-energy score/);
    const [nll, latent] = [readNifti(maps.nll), readNifti(maps.latent)];
    expect([nll.description, latent.description]).toEqual(['screener anomaly (NLL)', 'screener anomaly (latent energy)']);
    // Half a squared distance is never negative; the NLL differs from it by the log-variances and a constant.
    expect(Math.min(...latent.data)).toBeGreaterThanOrEqual(0);
    expect(latent.data.some((v, i) => Math.abs(v - nll.data[i]!) > 1e-3)).toBe(true);
    await expect(run(predict, ['--model', modelPath, '--in', input, '--out', join(root, 'score', 'x.nii.gz'), '--score', 'energy'])).rejects.toThrow(
      /--score must be one of nll, latent, got "energy"/,
    );
    await expect(run(evaluate, ['--data', data, '--baseline', 'intensity', '--fit-data', healthy, '--score', 'latent'])).rejects.toThrow(/--score\b.* give a model/);
    // A model trained with --score keeps it (screener train, below).
  });
});

describe('screener predict --smooth', () => {
  it('writes the map smoothed on the preprocessed grid, says so in the log and the header, and refuses bad widths', async () => {
    const input = join(data, 'case_0', 'ct.nii.gz');
    const out = join(root, 'smooth', 'smoothed.nii.gz');
    const { code, err } = await run(predict, ['--model', modelPath, '--in', input, '--out', out, '--overlap', '0', '--smooth', '30']);
    expect(code).toBe(0);
    expect(err).toMatch(/model: .*, map smoothed 30 mm/);
    const written = readNifti(out);
    expect(written.description).toBe('screener anomaly (NLL, smoothed 30 mm)');
    // The same steps through the library: the blended map, smoothed, then put back on the input's grid.
    const runtime = await nodeRuntime();
    const model = loadScreener(runtime, modelPath);
    try {
      const scan = preprocessCt(readNifti(input), input, model.preprocess);
      const { map } = await predictModelMap(runtime, model, scan, { overlap: 0 });
      expectClose(written.data, anomalyOnOriginalGrid(smoothAnomalyMap(map, scan, 30), scan).anomaly.data, 1e-5, 1e-6, 'smoothed map');
      // Smoothing changed the map (at 20 mm voxels, 30 mm is a Gaussian 1.5 voxels wide).
      const raw = anomalyOnOriginalGrid(map, scan).anomaly.data;
      expect(raw.some((v, i) => Math.abs(v - written.data[i]!) > 1e-3)).toBe(true);
    } finally {
      model.dispose();
      runtime.dispose();
    }
    for (const bad of ['200', 'wide']) {
      await expect(run(predict, ['--model', modelPath, '--in', input, '--out', join(root, 'smooth', 'x.nii.gz'), '--smooth', bad])).rejects.toThrow(/--smooth must be/);
    }
    await expect(run(evaluate, ['--data', data, '--baseline', 'intensity', '--fit-data', healthy, '--smooth', '6'])).rejects.toThrow(/--smooth\b.* give a model/);
  });
});

describe('screener eval', () => {
  it('scores Screener, the intensity baseline and their combination side by side, per kind group, into JSON and montages', async () => {
    const json = join(root, 'report.json');
    const montages = join(root, 'montages');
    const { code, out } = await run(evaluate, [
      '--data', data, '--model', modelPath, '--baseline', 'intensity', '--fit-data', healthy, '--combined',
      '--json', json, '--montages', montages, '--cache', join(root, 'cache'),
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| screener +\| all lesions +\| +2 \|/);
    expect(out).toMatch(/\| intensity +\| held-out kinds +\| +2 \|/);
    expect(out).toMatch(/other half of the cases/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(out).toMatch(/\| screener\+intensity +\| trained kinds +\| +2 \|/);
    for (const method of ['screener', 'intensity', 'screener+intensity']) {
      const m = report.methods[method];
      for (const key of ['auroc', 'auroc30', 'aupro30', 'diceBest', 'diceFixed', 'lesionRecall']) {
        expect(typeof m.mean[key], `${method} ${key}`).toBe('number');
        expect(typeof m.cases[0][key]).toBe('number');
      }
      expect(Object.keys(m.groups)).toEqual(['trained kinds', 'held-out kinds']);
    }
    expect(existsSync(join(montages, `screener-best1-case_${report.methods.screener.cases[0].auroc >= report.methods.screener.cases[1].auroc ? 0 : 1}-auroc${Math.max(report.methods.screener.cases[0].auroc, report.methods.screener.cases[1].auroc).toFixed(3)}.png`))).toBe(true);
  });

  it('combines maps of parts preprocessed at different voxel sizes on the scan\'s grid, scoring each part once per case', async () => {
    const counts = new Map<string, number>();
    // A part's map is its preprocessed intensities plus its voxel size, so the two differ in grid and values.
    const part = (name: string, mm: number): AnomalyScorer => ({
      name,
      description: name,
      identity: name,
      preprocess: resolvePreprocessOptions({ targetSpacing: [mm, mm, mm] }),
      async score(scan) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return { map: scan.image.data.map((v) => v * mm + mm), windows: 0 };
      },
    });
    const [coarse, fine, both] = withCombination(part('coarse', 20), part('fine', 10));
    const maps = join(root, 'combined-maps');
    const result = await runEvaluation({ data, scorers: [coarse, fine, both], mapsDir: maps });
    expect(result.cases).toBe(2);
    expect(Object.fromEntries(counts)).toEqual({ coarse: 2, fine: 2 });
    for (const id of ['case_0', 'case_1']) {
      const ctPath = join(data, id, 'ct.nii.gz');
      const ct = readNifti(ctPath);
      // The evaluation's body: the first method's preprocessing, on the scan's grid.
      const body = preprocessCt(ct, ctPath, coarse.preprocess).originalBody.data;
      const [a, b, combined] = ['coarse', 'fine', 'coarse+fine'].map((name) => readNifti(join(maps, id, `${name}.nii.gz`)));
      for (const m of [a, b, combined]) expect(m!.shape).toEqual(ct.shape);
      expect(a!.data.some((v, i) => Math.abs(v - b!.data[i]!) > 1e-3)).toBe(true);
      const expected = both.combine([Float32Array.from(a!.data), Float32Array.from(b!.data)], body);
      expectClose(combined!.data, expected, 1e-5, 1e-5, `${id} combined`);
    }
  });

  it('scores the baseline at --spacing beside a model, with the model\'s HU window', async () => {
    const maps = join(root, 'spacing-maps');
    const { code, out } = await run(evaluate, [
      '--data', data, '--model', modelPath, '--baseline', 'intensity', '--fit-data', healthy, '--combined', '--spacing', '10',
      '--maps', maps, '--cache', join(root, 'cache'), '--limit', '1',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| screener\+intensity +\| all lesions +\| +1 \|/);
    const identities = JSON.parse(readFileSync(join(maps, 'methods.json'), 'utf8'));
    const modelPreprocess = configPreprocessing(screenerConfigOf(readFileSync(modelPath), 'tiny'));
    expect(identities.intensity).toContain('"targetSpacing":[10,10,10]');
    expect(identities.intensity).toContain(`"huWindow":${JSON.stringify(modelPreprocess.huWindow)}`);
    expect(identities.screener).toContain('20x20x20 mm');
  });

  it('trains density models on one model\'s networks and scores them as the ablation grid', async () => {
    // `train --from` without --preset keeps the source model's configuration (here its 20 mm spacing);
    // two cells of the grid, each named by its own config, in one table.
    const grid = join(root, 'ablation');
    for (const [condition, density] of [['none', 'gaussian'], ['sincos', 'flow']]) {
      const { code } = await run(train, [
        '--data', data, '--out', join(grid, `${condition}-${density}.safetensors`), '--stage', 'density', '--from', modelPath,
        '--condition', condition!, '--density', density!, '--steps', '2', '--cache', join(root, 'cache'),
      ]);
      expect(code).toBe(0);
      const config = screenerConfigOf(readFileSync(join(grid, `${condition}-${density}.safetensors`)), 'trained');
      expect(config.targetSpacing).toEqual([20, 20, 20]);
      expect([config.density.condition, config.density.kind]).toEqual([condition, density]);
    }
    const { code, out } = await run(evaluate, ['--data', data, '--ablation', '--models', grid, '--overlap', '0.25', '--montages', join(root, 'ablation-montages'), '--cache', join(root, 'cache')]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| none-gaussian +\| all lesions +\| +2 \|/);
    expect(out).toMatch(/\| sincos-flow +\| held-out kinds +\| +2 \|/);
  });

  it('fills a knn bank on one model\'s descriptor (no condition network), and predicts with it', async () => {
    const knn = join(root, 'knn.safetensors');
    await expect(run(train, ['--data', data, '--out', knn, '--stage', 'density', '--from', modelPath, '--density', 'knn', '--condition', 'masked'])).rejects.toThrow(
      /a knn density is unconditioned: leave out --condition or give --condition none, not masked/,
    );
    await expect(run(train, ['--data', data, '--out', knn, '--stage', 'density', '--from', modelPath, '--density', 'gaussian', '--bank-size', '64'])).rejects.toThrow(
      /--bank-size is for a knn density \(--density knn\); this run trains a gaussian density/,
    );
    await expect(run(train, ['--data', data, '--out', knn, '--stage', 'density', '--from', modelPath, '--density', 'knn', '--bank-size', '2.5'])).rejects.toThrow(
      /--bank-size must be a decimal integer, got "2.5"/,
    );
    // 3 steps of ceil(50 / 3) = 17 descriptors: every row of the bank is written.
    const { code } = await run(train, ['--data', data, '--out', knn, '--stage', 'density', '--from', modelPath, '--density', 'knn', '--bank-size', '50', '--steps', '3', '--cache', join(root, 'cache')]);
    expect(code).toBe(0);
    const config = screenerConfigOf(readFileSync(knn), 'knn');
    expect([config.density.condition, config.density.kind, config.density.bankSize]).toEqual(['none', 'knn', 50]);
    const bank = decodeSafetensors(readFileSync(knn), 'knn').tensors.get('density.bank')!;
    const d = config.descriptor.embedding;
    expect(bank.shape).toEqual([50, d]);
    const rows = tensorToFloat32(bank, 'density.bank', 'knn');
    const rowNorms = Array.from({ length: 50 }, (_, r) => rows.subarray(r * d, (r + 1) * d).reduce((s, v) => s + v * v, 0));
    expect(rowNorms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    const out = join(root, 'knn-out', 'anomaly.nii.gz');
    const predicted = await run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', out]);
    expect(predicted.code).toBe(0);
    const map = readNifti(out);
    expect(map.data.every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // distances
    expect(map.description).toBe('screener anomaly (knn distance)'); // a distance, not an NLL
    expect(new Set(map.data).size).toBeGreaterThan(10);
    // Compared with the scan itself: another map of distances, never above the bank's for 'both' (before smoothing, both maps unsmoothed here).
    const own = join(root, 'knn-out', 'scan.nii.gz');
    expect((await run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', own, '--reference', 'scan'])).code).toBe(0);
    const ownMap = readNifti(own);
    expect(ownMap.description).toBe('screener anomaly (knn distance within the scan)');
    expect(ownMap.data.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(Array.from(ownMap.data).some((v, i) => Math.abs(v - map.data[i]!) > 1e-3)).toBe(true);
    const either = join(root, 'knn-out', 'both.nii.gz');
    expect((await run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', either, '--reference', 'both'])).code).toBe(0);
    const eitherMap = readNifti(either).data;
    expect(Array.from(eitherMap).every((v, i) => v <= map.data[i]! + 1e-4 && v <= ownMap.data[i]! + 1e-4)).toBe(true);
    // Fewer of the scan's cells, kept in the model by configure: another draw, so another map, and the model says so.
    const fewRows = join(root, 'knn-rows.safetensors');
    const configured = await run(configure, ['--model', knn, '--out', fewRows, '--reference', 'scan', '--reference-rows', '5']);
    expect(configured.out).toMatch(/knn density \(at most 5 of the scan's own cells 32 mm away\)/);
    expect(screenerConfigOf(readFileSync(fewRows), 'knn-rows').density).toMatchObject({ reference: 'scan', referenceRows: 5 });
    const few = join(root, 'knn-out', 'few.nii.gz');
    expect((await run(predict, ['--model', fewRows, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', few])).code).toBe(0);
    const fewMap = readNifti(few).data;
    expect(fewMap.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(Array.from(fewMap).some((v, i) => Math.abs(v - ownMap.data[i]!) > 1e-3)).toBe(true);
    await expect(run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', join(root, 'knn-out', 'e.nii.gz'), '--reference-rows', '0'])).rejects.toThrow(
      /--reference-rows must be from 1 to 1048576, got "0"/,
    );
    await expect(run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', join(root, 'knn-out', 'c.nii.gz'), '--reference', 'atlas'])).rejects.toThrow(
      /--reference must be one of bank, scan, both, got "atlas"/,
    );
    // A reference for a model without a knn density fails, naming the model, and writes nothing.
    const refused = run(predict, ['--model', modelPath, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', join(root, 'knn-out', 'd.nii.gz'), '--reference', 'scan']);
    await expect(refused).rejects.toThrow(new RegExp(`${basename(modelPath)}: only a knn density compares descriptors with a reference`));
    expect(existsSync(join(root, 'knn-out', 'd.nii.gz'))).toBe(false);
    await expect(run(predict, ['--model', knn, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', join(root, 'knn-out', 'b.nii.gz'), '--score', 'latent'])).rejects.toThrow(
      /a knn density has no latent energy/,
    );
    // A knn model has no condition network: a conditioned density trained from it alone says so.
    const conditioned = await run(train, ['--data', data, '--out', join(root, 'from-knn.safetensors'), '--stage', 'density', '--from', knn, '--condition', 'masked', '--density', 'gaussian', '--steps', '1', '--cache', join(root, 'cache')]);
    expect(conditioned.code).toBe(0);
    expect(conditioned.err).toMatch(/warning: the condition network is untrained/);
  });

  it('names a lesion mask that is not on its CT grid', async () => {
    const bad = join(root, 'bad-grid');
    const phantom = generatePhantom({ seed: 5, lesions: ['liver_hypodense'], size: 32 });
    writePhantomCase(join(bad, 'case_0'), phantom);
    const [D, H, W] = phantom.lesion.shape;
    writeNifti(join(bad, 'case_0', 'lesion.nii.gz'), { ...phantom.lesion, shape: [D, H, W - 1], data: new Uint8Array(D * H * (W - 1)).fill(1) });
    await expect(run(evaluate, ['--data', bad, '--baseline', 'intensity', '--fit-data', healthy])).rejects.toThrow(/lesion\.nii\.gz: mask grid .* differs from its CT/);
  });

  it('scores the other cases when one is corrupt, lists it with its error and exits 1', async () => {
    const mixed = join(root, 'mixed');
    for (let i = 0; i < 3; i++) {
      writePhantomCase(join(mixed, `case_${i}`), generatePhantom({ seed: phantomCaseSeed(12, i), lesions: ['liver_hyperdense'], size: 32 }));
    }
    const broken = join(mixed, 'case_1', 'ct.nii.gz');
    writeFileSync(broken, readFileSync(broken).subarray(0, 200)); // truncated gzip
    const json = join(root, 'mixed.json');
    const maps = join(root, 'mixed-maps');
    const { code, out } = await run(evaluate, ['--data', mixed, '--baseline', 'intensity', '--fit-data', healthy, '--json', json, '--maps', maps, '--cache', join(root, 'cache')]);
    expect(code).toBe(1);
    expect(out).toMatch(/\| intensity +\| all lesions +\| +2 \|/);
    expect(out).toMatch(/1 case could not be scored[\s\S]*case_1: .*ct\.nii\.gz/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.methods.intensity.cases.map((c: { id: string }) => c.id)).toEqual(['case_0', 'case_2']);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0].id).toBe('case_1');
    expect(report.failed[0].error).toMatch(/ct\.nii\.gz/);
    expect(existsSync(join(maps, 'case_0', 'intensity.nii.gz'))).toBe(true);
    expect(existsSync(join(maps, 'case_1'))).toBe(false);

    // Mended, the case is scored by a resumed run, which takes the other two from their maps.
    writePhantomCase(join(mixed, 'case_1'), generatePhantom({ seed: phantomCaseSeed(12, 1), lesions: ['liver_hyperdense'], size: 32 }));
    const resumed = await run(evaluate, ['--data', mixed, '--baseline', 'intensity', '--fit-data', healthy, '--json', json, '--maps', maps, '--cache', join(root, 'cache'), '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(/3 cases with lesions, 2 of them from the maps of an earlier run/);
    const after = JSON.parse(readFileSync(json, 'utf8'));
    expect(after.failed).toEqual([]);
    // The same map gives the same threshold-free metrics (the threshold's folds now hold three cases).
    for (const key of ['auroc', 'auroc30', 'aupro30', 'diceBest']) expect(after.methods.intensity.cases[0][key], key).toBe(report.methods.intensity.cases[0][key]);
    expect(existsSync(join(maps, 'case_1', 'intensity.nii.gz'))).toBe(true);
    await expect(run(evaluate, ['--data', mixed, '--baseline', 'intensity', '--fit-data', healthy, '--resume'])).rejects.toThrow(/--resume takes the maps of an earlier run/);
    // Maps of another method (here: the baseline fitted on other scans) are never mixed in.
    await expect(run(evaluate, ['--data', mixed, '--baseline', 'intensity', '--fit-data', data, '--maps', maps, '--cache', join(root, 'cache'), '--resume'])).rejects.toThrow(
      /methods\.json: --resume: the intensity maps here were made by/,
    );
  });

  it('with --source-data scores each case without its inserted lesions too: lesion presence and placement', async () => {
    const inserted = join(root, 'inserted');
    expect((await run(insertLesionsCommand, ['--data', healthy, '--out', inserted, '--seed', '3', '--per-case', '2'])).code).toBe(0);
    const json = join(root, 'paired.json');
    const common = ['--data', inserted, '--model', modelPath, '--baseline', 'intensity', '--fit-data', healthy, '--cache', join(root, 'cache')];
    const { code, out } = await run(evaluate, [...common, '--source-data', healthy, '--json', json]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| method \| lesions \| cases \| lesion presence AUROC \| placement AUROC \|/);
    expect(out).toMatch(/\| intensity \| all lesions \| 2 \| [\d.]+ \[[\d.]+, [\d.]+\] \| [\d.]+ \[[\d.]+, [\d.]+\] \|/);
    // Inserted lesions carry no kinds: no rows per kind group.
    expect(out).not.toMatch(/held-out kinds \| \d/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    for (const method of ['screener', 'intensity']) {
      const m = report.methods[method];
      expect(m.response.cases).toBe(2);
      for (const c of m.cases) for (const key of ['presence', 'placement']) expect(c[key]).toBeGreaterThanOrEqual(0), expect(c[key]).toBeLessThanOrEqual(1);
    }
    // The baseline flags intensities that are rare where they are: inserted HU shifts raise it, even at
    // this model's 20 mm voxels, where a lesion is one or two voxels across.
    expect(report.methods.intensity.response.presence).toBeGreaterThan(0.5);

    // Scored against themselves, the scans give every method presence 0.5 and placement = its AUROC.
    const self = join(root, 'paired-self.json');
    expect((await run(evaluate, [...common, '--source-data', inserted, '--json', self])).code).toBe(0);
    for (const m of Object.values(JSON.parse(readFileSync(self, 'utf8')).methods) as { cases: { presence: number; placement: number; auroc: number }[] }[]) {
      for (const c of m.cases) {
        expect(c.presence).toBe(0.5);
        expect(c.placement).toBeCloseTo(c.auroc, 5);
      }
    }

    // A case missing from the source folder is listed as failed, named there.
    const partial = join(root, 'partial-source');
    cpSync(join(healthy, 'case_0'), join(partial, 'case_0'), { recursive: true });
    const missing = await run(evaluate, [...common, '--source-data', partial]);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/case_1: .*partial-source.case_1: no scan of case case_1 here/);
  });

  it('with phantoms and their scans without lesions, gives presence and placement per kind group, and per kind with --per-kind', async () => {
    const withLesions = join(root, 'kinds');
    const without = join(root, 'kinds-source');
    for (let i = 0; i < 2; i++) {
      const phantom = generatePhantom({ seed: phantomCaseSeed(14, i), lesions: ['liver_hyperdense', 'splenic_infarct'], size: 32, withoutLesions: true });
      writePhantomCase(join(withLesions, `case_${i}`), phantom);
      writePhantomCase(join(without, `case_${i}`), phantomWithoutLesions(phantom));
    }
    const json = join(root, 'kinds.json');
    const { code, out } = await run(evaluate, ['--data', withLesions, '--source-data', without, '--baseline', 'intensity', '--fit-data', healthy, '--per-kind', '--json', json]);
    expect(code).toBe(0);
    expect(out).toMatch(/\| intensity \| held-out kinds \| 2 \| [\d.]+ \[[\d.]+, [\d.]+\] \| [\d.]+ \[[\d.]+, [\d.]+\] \|/);
    const intensity = JSON.parse(readFileSync(json, 'utf8')).methods.intensity;
    expect(Object.keys(intensity.response.groups).sort()).toEqual(['held-out kinds', 'kind liver_hyperdense', 'kind splenic_infarct', 'trained kinds']);
    for (const c of intensity.cases) {
      for (const group of ['trained kinds', 'held-out kinds']) {
        const values = c.groups[group];
        for (const key of ['presence', 'placement']) expect(values[key], `${c.id} ${group} ${key}`).toBeGreaterThanOrEqual(0), expect(values[key]).toBeLessThanOrEqual(1);
      }
    }
    // A group's values are that group's lesions alone: the mean of the cases' group values.
    const mean = (key: string) => intensity.cases.reduce((a: number, c: { groups: Record<string, Record<string, number>> }) => a + c.groups['held-out kinds']![key]!, 0) / 2;
    expect(intensity.response.groups['held-out kinds'].presence).toBeCloseTo(mean('presence'), 3);
    expect(intensity.response.groups['held-out kinds'].placement).toBeCloseTo(mean('placement'), 3);
    // The hyperdense liver lesions (170-220 HU in liver) change the scan where they are: the baseline sees them.
    expect(intensity.response.groups['trained kinds'].presence).toBeGreaterThan(0.6);
    // --per-kind: each kind present is a group of its own, after the two; here each group holds one kind,
    // so the kind's values are its group's, and kinds no case holds get no row.
    expect(Object.keys(intensity.groups)).toEqual(['trained kinds', 'held-out kinds', 'kind liver_hyperdense', 'kind splenic_infarct']);
    expect(out).toMatch(/\| intensity +\| kind splenic_infarct +\| +2 \|/);
    for (const [kind, group] of [['kind liver_hyperdense', 'trained kinds'], ['kind splenic_infarct', 'held-out kinds']]) {
      expect(intensity.groups[kind]).toEqual(intensity.groups[group]);
      expect(intensity.response.groups[kind]).toEqual(intensity.response.groups[group]);
      for (const c of intensity.cases) expect(c.groups[kind]).toEqual(c.groups[group]);
    }
  });

  it('lists a scan whose geometry is not a CT\'s as failed, and scores it with --force-geometry', async () => {
    const odd = join(root, 'odd');
    for (let i = 0; i < 2; i++) writePhantomCase(join(odd, `case_${i}`), generatePhantom({ seed: phantomCaseSeed(13, i), lesions: ['kidney_cyst'], size: 32 }));
    // case_1's header in metres read as millimetres: every voxel 1000 times too small.
    const ctFile = join(odd, 'case_1', 'ct.nii.gz');
    const ct = readNifti(ctFile);
    const affine = affineFromRows(affineRows(ct.affine).slice(0, 3).map((row) => row.map((v) => v / 1000)));
    writeNifti(ctFile, { ...ct, affine, spacing: ct.spacing.map((v) => v / 1000) as [number, number, number] }, { datatype: 'int16' });
    const lesionFile = join(odd, 'case_1', 'lesion.nii.gz');
    const lesion = readNifti(lesionFile);
    writeNifti(lesionFile, { ...lesion, affine, spacing: ct.spacing.map((v) => v / 1000) as [number, number, number] }, { datatype: 'uint8' });
    rmSync(join(odd, 'case_1', 'lesion_kinds.nii.gz'));
    const json = join(root, 'odd.json');
    const refused = await run(evaluate, ['--data', odd, '--baseline', 'intensity', '--fit-data', healthy, '--json', json, '--cache', join(root, 'cache')]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(readFileSync(json, 'utf8')).failed[0].error).toMatch(/case_1[\\/]ct\.nii\.gz: voxel size .* is outside what a CT can be.*--force-geometry/);
    const forced = await run(evaluate, ['--data', odd, '--baseline', 'intensity', '--fit-data', healthy, '--json', json, '--cache', join(root, 'cache'), '--force-geometry']);
    expect(forced.code, forced.out).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).methods.intensity.cases).toHaveLength(2);
  });

  it('explains what is missing', async () => {
    await expect(run(evaluate, ['--data', data])).rejects.toThrow(/name at least one method/);
    await expect(run(evaluate, ['--data', data, '--baseline', 'intensity'])).rejects.toThrow(/needs --fit-data/);
    await expect(run(evaluate, ['--data', data, '--baseline', 'intensity', '--fit-data', healthy, '--combined'])).rejects.toThrow(/--combined needs a model and the baseline/);
    await expect(run(evaluate, ['--data', join(root, 'nowhere'), '--baseline', 'intensity', '--fit-data', healthy])).rejects.toThrow(/nowhere: no such folder/);
    await expect(run(evaluate, ['--data', healthy, '--baseline', 'intensity', '--fit-data', healthy])).rejects.toThrow(/no case folder with a lesion mask/);
    await expect(run(evaluate, ['--data', data, '--ablation'])).rejects.toThrow(/--ablation and --models DIR go together/);
    await expect(run(evaluate, ['--data', data, '--model', modelPath, '--overlap', '1'])).rejects.toThrow(/--overlap must be a number in \[0, 1\), got "1"/);
    // A bad --spacing is refused before the model is loaded: the model here does not exist.
    await expect(run(evaluate, ['--data', data, '--model', join(root, 'nowhere.safetensors'), '--baseline', 'intensity', '--fit-data', healthy, '--spacing', '0'])).rejects.toThrow(
      /--spacing must be a voxel size in mm \(0.1 to 20\), got "0"/,
    );
  });
});

describe('screener train --hu-window, --score and --smooth', () => {
  it('keeps them in the model, which prediction then uses without asking, and refuses a malformed window', async () => {
    const out = join(root, 'window', 'soft.safetensors');
    const argv = ['--data', data, '--out', out, '--preset', 'tiny', '--spacing', '12', '--cache', join(root, 'cache'), '--steps', '1'];
    expect((await run(train, [...argv, '--hu-window', '-200,300', '--score', 'latent', '--smooth', '4'])).code).toBe(0);
    const config = screenerConfigOf(readFileSync(out), 'trained');
    expect(config.huWindow).toEqual([-200, 300]);
    expect(config.density).toMatchObject({ score: 'latent', smoothMm: 4 });
    const map = join(root, 'window', 'map.nii.gz');
    const { code, err } = await run(predict, ['--model', out, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', map, '--overlap', '0']);
    expect(code).toBe(0);
    expect(err).toMatch(/HU window -200 to 300/);
    expect(readNifti(map).description).toBe('screener anomaly (latent energy, smoothed 4 mm)');
    // A later stage of that model continues its networks only with the window they learned.
    await expect(run(train, [...argv, '--stage', 'condition'])).rejects.toThrow(
      /soft\.safetensors: was trained with the HU window -200,300, this run preprocesses with -1000,300; give --hu-window -200,300/,
    );
    for (const bad of ['300,-200', '-200', '-200,', 'soft', '-200,1e6']) {
      await expect(run(train, [...argv, '--force', '--hu-window', bad])).rejects.toThrow(/--hu-window must be two HU values LO,HI/);
    }
  });
});

describe('screener demo', () => {
  it('trains its own model at 6 mm with self-supervised crops around 6 mm', () => {
    const config = demoTrainingConfig(5);
    expect(config.targetSpacing).toEqual([6, 6, 6]);
    expect(config.ssl.spacingRange.flat().every((mm) => mm >= 4.7 && mm <= 8.5)).toBe(true);
    expect(config.train.steps).toEqual({ descriptor: 5, condition: 5, density: 5 });
  });

  it('fails before any work, naming the missing weights and the train command', async () => {
    const out = join(root, 'demo-out');
    await expect(run(demo, ['--out', out, '--model', join(root, 'models', 'demo.safetensors')])).rejects.toThrow(
      /models[\\/]demo\.safetensors is missing[\s\S]*screener phantom --quality --out quality-phantoms[\s\S]*screener train --data quality-phantoms\/train --out models\/demo\.safetensors --preset small --spacing 4 --steps 300 --colour 0.3 --density knn --smooth 6 --reference scan --seed 0[\s\S]*screener demo --train/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
