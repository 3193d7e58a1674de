// Checkpoints and resume in Node: a run interrupted after a checkpoint and resumed repeats exactly
// the losses of an uninterrupted run; a non-finite loss stops training with its step number and leaves
// the last checkpoint intact; --kinds keeps cases with held-out lesion kinds out of training.
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { HELD_OUT_LESION_KINDS, TRAINING_LESION_KINDS } from '../../src/data/phantom/lesions';
import { writePhantomCase } from '../../src/data/phantom/write.node';
import { writeNifti } from '../../src/data/io/files.node';
import { affineFromRows, affineRows } from '../../src/data/geometry/volume';
import { presetConfig, withDensity, withTargetSpacing } from '../../src/model/config';
import { Screener } from '../../src/model/screener';
import { encodeCheckpoint, readCheckpointSummary, restoreCheckpoint } from '../../src/train/checkpoint';
import { runTraining, trainPaths } from '../../src/train/run.node';
import { loadTrainingScans } from '../../src/train/scans.node';
import { trainingScanFromCt } from '../../src/train/scans';
import { NonFiniteLossError, ScreenerTrainer, TrainingInterrupted, type LossRecord } from '../../src/train/trainer';
import { testRuntime } from '../helpers/runtime';

const dir = mkdtempSync(join(tmpdir(), 'screener-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scans = () => [21, 22].map((seed) => trainingScanFromCt(generatePhantom({ seed, size: 40, kindPool: TRAINING_LESION_KINDS }).ct, `phantom ${seed}`, { targetSpacing: [5, 5, 5] }));

/** Tiny, with a Gaussian density on no condition (two stages: descriptor, density), a checkpoint every 2 steps. */
function config() {
  const c = withDensity(withTargetSpacing(presetConfig('tiny'), 5), { kind: 'gaussian', condition: 'none' });
  c.train.checkpointEvery = 2;
  return c;
}

const losses = (history: LossRecord[]) => history.map((r) => `${r.stage} ${r.step} ${r.loss}`);

describe('training runs', () => {
  it('resumes an interrupted run to exactly the losses of an uninterrupted one', async () => {
    const runtime = await testRuntime();
    const data = scans();
    const base = { runtime, scans: data, config: config(), seed: 3, steps: 3 };
    const full = await runTraining({ ...base, out: join(dir, 'full.safetensors') });
    expect(full.history.map((r) => `${r.stage} ${r.step}`)).toEqual([1, 2, 3, 1, 2, 3].map((s, i) => `${i < 3 ? 'descriptor' : 'density'} ${s}`));

    const out = join(dir, 'cut.safetensors');
    const stop = new AbortController();
    const interrupted = runTraining({ ...base, out, signal: stop.signal, onStep: (r) => r.stage === 'descriptor' && r.step === 2 && stop.abort() });
    await expect(interrupted).rejects.toBeInstanceOf(TrainingInterrupted);
    // Stopped mid-stage: the checkpoint of step 2 holds the weights, projector and AdamW moments.
    const paths = trainPaths(out);
    expect(readCheckpointSummary(readFileSync(paths.checkpoint), paths.checkpoint).position).toEqual({ stage: 'descriptor', step: 2, steps: 3 });
    expect(existsSync(paths.model)).toBe(false);

    const resumed = await runTraining({ ...base, out, resume: true });
    expect(losses(resumed.history)).toEqual(losses(full.history));
    expect(resumed.steps).toEqual({ descriptor: 1, density: 3 });
    const a = Screener.fromSafetensors(runtime, readFileSync(join(dir, 'full.safetensors')), 'full');
    const b = Screener.fromSafetensors(runtime, readFileSync(out), 'cut');
    for (const [name, t] of a.namedTensors()) expect(Array.from(await b.namedTensors().get(name)!.read()), name).toEqual(Array.from(await t.read()));
    expect([...b.trainedStages]).toEqual(['descriptor', 'density']);
    // The files record the steps each stage trained (the tiny preset's own count is 20).
    for (const model of [a, b]) expect(model.config.train.steps).toMatchObject({ descriptor: 3, density: 3 });
    const csv = readFileSync(paths.csv, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('stage,step,loss,lr,seconds');
    expect(csv).toHaveLength(7);
    expect(readFileSync(paths.png).subarray(1, 4).toString()).toBe('PNG');
    a.dispose();
    b.dispose();
  });

  it('fills a knn density\'s bank over the density steps, and a resumed fill ends with the same bank', async () => {
    const runtime = await testRuntime();
    const knn = () => {
      const c = withDensity(config(), { kind: 'knn', condition: 'none', bankSize: 10 });
      c.train.checkpointEvery = 1;
      return c;
    };
    // 3 steps of ceil(10 / 3) = 4 descriptors: the last step wraps around onto the first slots.
    const base = { runtime, scans: scans(), config: knn(), seed: 5, steps: 3 };
    const full = await runTraining({ ...base, out: join(dir, 'knn-full.safetensors') });
    const out = join(dir, 'knn-cut.safetensors');
    const stop = new AbortController();
    const interrupted = runTraining({ ...base, out, signal: stop.signal, onStep: (r) => r.stage === 'density' && r.step === 2 && stop.abort() });
    await expect(interrupted).rejects.toBeInstanceOf(TrainingInterrupted);
    const resumed = await runTraining({ ...base, out, resume: true });
    expect(losses(resumed.history)).toEqual(losses(full.history));
    const a = Screener.fromSafetensors(runtime, readFileSync(join(dir, 'knn-full.safetensors')), 'full');
    const b = Screener.fromSafetensors(runtime, readFileSync(out), 'cut');
    const bank = await a.namedTensors().get('density.bank')!.read();
    expect(Array.from(await b.namedTensors().get('density.bank')!.read())).toEqual(Array.from(bank));
    // Every slot holds a descriptor (none left at the zeros the bank starts from), and no two the same.
    const d = a.config.descriptor.embedding;
    const rows = Array.from({ length: 10 }, (_, j) => Array.from(bank.subarray(j * d, (j + 1) * d)).join(','));
    expect(rows.every((r) => r.split(',').some((v) => Number(v) !== 0))).toBe(true);
    expect(new Set(rows).size).toBe(10);
    expect([...b.trainedStages]).toEqual(['descriptor', 'density']);
    a.dispose();
    b.dispose();
  });

  it('stops at a non-finite loss with the step number, keeping the last good checkpoint', async () => {
    const runtime = await testRuntime();
    const model = Screener.create(runtime, config(), 4);
    const trainer = new ScreenerTrainer(runtime, model, scans(), 4);
    const saved: Uint8Array[] = [];
    const run = trainer.trainStage('descriptor', 3, {
      saveCheckpoint: async () => void saved.push(await encodeCheckpoint(trainer)),
      // After step 2 (and its checkpoint) a weight of the projector's last layer turns to NaN.
      onStep: (r) => {
        if (r.step !== 2) return;
        const w = trainer.projectors.get('descriptor')!.namedParameters().get('2.weight')!;
        runtime.write(w.buffer, new Float32Array(w.size).fill(NaN));
      },
    });
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(run).rejects.toThrow(/descriptor stage: the loss at step 3 is NaN; training stopped\. The last good checkpoint \(descriptor step 2\) is intact/);
    expect(saved).toHaveLength(1);
    const restored = restoreCheckpoint(runtime, saved[0]!, 'last.safetensors', scans());
    expect(restored.position).toEqual({ stage: 'descriptor', step: 2, steps: 3 });
    for (const t of restored.projectors.get('descriptor')!.parameters()) expect((await t.read()).every(Number.isFinite)).toBe(true);
    restored.dispose();
    restored.model.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('warns of an untrained descriptor only when this run trains the density on it', async () => {
    const runtime = await testRuntime();
    const masked = withTargetSpacing(presetConfig('tiny'), 5); // descriptor, condition, density
    const data = scans();
    const warnings = async (stage: 'condition' | 'density', name: string) => {
      const lines: string[] = [];
      await runTraining({ runtime, scans: data, config: masked, seed: 3, steps: 1, stage, out: join(dir, name), log: (line) => lines.push(line) });
      return lines.filter((line) => line.startsWith('warning:'));
    };
    // The condition network learns from its own masked crops: no descriptor is read.
    expect(await warnings('condition', 'condition-alone.safetensors')).toEqual([]);
    expect(await warnings('density', 'density-alone.safetensors')).toEqual([
      'warning: the descriptor network is untrained (train it first, or pass --from MODEL)',
      'warning: the condition network is untrained (train the condition stage first, or pass --from a MODEL that has one)',
    ]);
  });

  it('keeps cases with lesions outside --kinds out of the training scans', () => {
    const data = join(dir, 'data');
    const heldOut = HELD_OUT_LESION_KINDS[0]!;
    writePhantomCase(join(data, 'case_a'), generatePhantom({ seed: 31, size: 32, lesions: [TRAINING_LESION_KINDS[0]!] }));
    writePhantomCase(join(data, 'case_b'), generatePhantom({ seed: 32, size: 32, lesions: [heldOut] }));
    const { scans: kept, skipped } = loadTrainingScans([data], { kinds: TRAINING_LESION_KINDS, cacheDir: join(dir, 'cache'), preprocess: { targetSpacing: [5, 5, 5] } });
    expect(kept.map((s) => s.id)).toEqual([`${data}:case_a`]);
    expect(skipped).toEqual([{ id: `${data}:case_b`, kinds: [heldOut] }]);
    expect(loadTrainingScans([data], { cacheDir: join(dir, 'cache'), preprocess: { targetSpacing: [5, 5, 5] } }).scans).toHaveLength(2);
  });

  it('reads no lesion mask, and leaves out a case whose CT cannot be read, naming it', () => {
    const data = join(dir, 'data-bad');
    writePhantomCase(join(data, 'case_a'), generatePhantom({ seed: 33, size: 32, lesions: [TRAINING_LESION_KINDS[0]!] }));
    writePhantomCase(join(data, 'case_b'), generatePhantom({ seed: 34, size: 32, lesions: [TRAINING_LESION_KINDS[1]!] }));
    writePhantomCase(join(data, 'case_c'), generatePhantom({ seed: 35, size: 32, healthy: true }));
    writeFileSync(join(data, 'case_a', 'lesion.nii.gz'), 'not a mask'); // labels are never used in training
    writeFileSync(join(data, 'case_b', 'ct.nii.gz'), readFileSync(join(data, 'case_b', 'ct.nii.gz')).subarray(0, 100));
    // case_d's header in metres read as millimetres: a voxel size no CT has.
    const d = generatePhantom({ seed: 36, size: 32, healthy: true }).ct;
    writeNifti(join(data, 'case_d', 'ct.nii.gz'), { ...d, affine: affineFromRows(affineRows(d.affine).slice(0, 3).map((row) => row.map((v) => v / 1000))), spacing: d.spacing.map((v) => v / 1000) as [number, number, number] }, { datatype: 'int16' });
    const { scans, failed } = loadTrainingScans([data], { cacheDir: join(dir, 'cache'), preprocess: { targetSpacing: [5, 5, 5] } });
    expect(scans.map((s) => s.id)).toEqual([`${data}:case_a`, `${data}:case_c`]);
    expect(failed.map((f) => f.id)).toEqual([`${data}:case_b`, `${data}:case_d`]);
    expect(failed[0]!.error).toMatch(/case_b[\\/]ct\.nii\.gz/);
    expect(failed[1]!.error).toMatch(/case_d[\\/]ct\.nii\.gz: voxel size .* is outside what a CT can be/);
    writeFileSync(join(data, 'case_a', 'ct.nii.gz'), 'broken');
    writeFileSync(join(data, 'case_c', 'ct.nii.gz'), 'broken');
    rmSync(join(data, 'case_d'), { recursive: true });
    expect(() => loadTrainingScans([data], { cacheDir: join(dir, 'cache'), preprocess: { targetSpacing: [5, 5, 5] } })).toThrow(/no scan could be read/);
  });
});
