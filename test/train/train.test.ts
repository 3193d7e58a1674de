// A tiny Screener trains every stage for a few steps on phantoms generated in memory, in Node and in
// Chromium alike: the losses are finite and fall when a stage sees the same batch again and again
// (fresh crops every step would make a few steps too noisy to judge).
import { describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { TRAINING_LESION_KINDS } from '../../src/data/phantom/lesions';
import { presetConfig, withDensity, type ScreenerConfig, withTargetSpacing } from '../../src/model/config';
import { Screener } from '../../src/model/screener';
import { trainingScanFromCt, type TrainingScan } from '../../src/train/scans';
import { ScreenerTrainer } from '../../src/train/trainer';
import { testRuntime } from '../helpers/runtime';

/** Two small phantoms, preprocessed at 5 mm so that they take a second, not ten. */
function phantomScans(): TrainingScan[] {
  return [11, 12].map((seed) => trainingScanFromCt(generatePhantom({ seed, size: 40, kindPool: TRAINING_LESION_KINDS }).ct, `phantom ${seed}`, { targetSpacing: [5, 5, 5] }));
}

function tinyConfig(density: Partial<ScreenerConfig['density']>): ScreenerConfig {
  // At the scans' 5 mm: a model trains only on scans preprocessed to its own voxel size.
  const config = withDensity(withTargetSpacing(presetConfig('tiny'), 5), density);
  config.train.ssl.warmupSteps = 0;
  config.train.density.warmupSteps = 0;
  return config;
}

describe('Screener training', () => {
  const scans = phantomScans();

  it('refuses scans preprocessed to another voxel size than the model\'s, naming the scan', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tinyConfig({ kind: 'gaussian', condition: 'none' }), 1);
    const coarse = [trainingScanFromCt(generatePhantom({ seed: 13, size: 40 }).ct, 'phantom 13', { targetSpacing: [8, 8, 8] })];
    expect(() => new ScreenerTrainer(rt, model, coarse, 0)).toThrow(/phantom 13: preprocessed to 8[.0-9]* x [.0-9]* x [.0-9]* mm, but the model works at 5 x 5 x 5 mm/);
    expect(() => new ScreenerTrainer(rt, model, scans, 0).dispose()).not.toThrow();
    model.dispose();
  });

  it('trains the descriptor, the condition network and a flow density: finite, falling losses', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tinyConfig({ kind: 'flow', condition: 'masked' }), 1);
    const trainer = new ScreenerTrainer(rt, model, scans, 1);
    trainer.repeatData = 1;
    expect(trainer.stages).toEqual(['descriptor', 'condition', 'density']);
    for (const stage of trainer.stages) {
      const last = await trainer.trainStage(stage, 3);
      const losses = trainer.history.filter((r) => r.stage === stage).map((r) => r.loss);
      expect(losses).toHaveLength(3);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(last).toBe(losses[2]);
      expect(losses[2]!, `${stage} losses ${losses.join(', ')}`).toBeLessThan(losses[0]!);
      expect(model.trainedStages.has(stage)).toBe(true);
    }
    trainer.dispose();
    model.dispose();
  });

  it('trains the descriptor with DenseInfoNCE and a Gaussian density on the sin-cos condition (no condition network)', async () => {
    const rt = await testRuntime();
    const config = tinyConfig({ kind: 'gaussian', condition: 'sincos' });
    config.ssl.loss = 'infonce';
    const model = Screener.create(rt, config, 2);
    const trainer = new ScreenerTrainer(rt, model, scans, 2);
    trainer.repeatData = 1;
    expect(trainer.stages).toEqual(['descriptor', 'density']);
    for (const stage of trainer.stages) {
      await trainer.trainStage(stage, 3);
      const losses = trainer.history.filter((r) => r.stage === stage).map((r) => r.loss);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[2]!, `${stage} losses ${losses.join(', ')}`).toBeLessThan(losses[0]!);
    }
    trainer.dispose();
    model.dispose();
  });
});
