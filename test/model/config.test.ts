// The presets satisfy the networks' invariants, and a config that breaks one is refused by name.
import { describe, expect, it } from 'vitest';
import { anomalyScoreOf, conditionChannels, configPreprocessing, mapSmoothingOf, presetConfig, PRESETS, withDensity, withHuWindow, withTargetSpacing } from '../../src/model/config';
import { describeConfig } from '../../src/model/describe';
import { validateConfig } from '../../src/model/validate-config';
import { DenseUNet } from '../../src/model/unet';

describe('Screener config', () => {
  it('has valid presets of growing size, the base one at the paper\'s scale', () => {
    for (const name of PRESETS) expect(validateConfig(presetConfig(name)).preset).toBe(name);
    const flops = PRESETS.map((name) => DenseUNet.convFlops(presetConfig(name).descriptor, presetConfig(name).train.cropSize));
    expect(flops[0]!).toBeLessThan(flops[1]!);
    expect(flops[1]!).toBeLessThan(flops[2]!);
    const base = presetConfig('base');
    expect(base.descriptor.embedding).toBe(32);
    expect(base.train.cropSize).toEqual([96, 96, 64]);
    expect(base.ssl.projector).toEqual([8192, 8192]);
    expect(base.density.poolStride).toEqual([3, 3, 2]);
    expect(base.ssl.vicregWeights).toEqual([25, 25, 1]);
    expect(base.ssl.temperature).toBe(0.1);
    expect(base.density.noiseStd).toBe(0.1);
  });

  it('counts condition channels for each kind of condition', () => {
    const tiny = presetConfig('tiny');
    expect(conditionChannels(withDensity(tiny, { condition: 'none' }))).toBe(0);
    expect(conditionChannels(withDensity(tiny, { condition: 'sincos' }))).toBe(6 * tiny.density.sincosFrequencies);
    expect(conditionChannels(withDensity(tiny, { condition: 'masked' }))).toBe(tiny.condition.embedding);
    // withDensity copies: the preset object itself is untouched.
    expect(tiny.density.condition).toBe('masked');
  });

  it('scales the SSL crop spacing range with the target spacing', () => {
    const small = presetConfig('small');
    const coarse = withTargetSpacing(small, 4);
    expect(coarse.targetSpacing).toEqual([4, 4, 4]);
    expect(coarse.ssl.spacingRange[0]).toEqual([3.2, 3.2, 3.2]);
    expect(coarse.ssl.spacingRange[1].map((s) => Number(s.toFixed(6)))).toEqual([5.6, 5.6, 5.6]);
    expect(small.ssl.spacingRange[0]).toEqual([2, 2, 2]);
  });

  it('preprocesses with the paper\'s HU window unless the config names one, and describes one that differs', () => {
    const small = presetConfig('small');
    expect(configPreprocessing(small).huWindow).toEqual([-1000, 300]);
    expect(describeConfig(small)).not.toMatch(/HU window/);
    const soft = withHuWindow(small, [-200, 300]);
    expect(configPreprocessing(soft).huWindow).toEqual([-200, 300]);
    expect(configPreprocessing(soft).targetSpacing).toEqual(small.targetSpacing);
    expect(describeConfig(soft)).toMatch(/, HU window -200 to 300$/);
    expect(validateConfig(soft).huWindow).toEqual([-200, 300]);
    expect(small.huWindow).toBeUndefined();
  });

  it('scores with the NLL unless the config names the latent energy, and describes that', () => {
    const small = presetConfig('small');
    expect(anomalyScoreOf(small)).toBe('nll');
    expect(describeConfig(small)).not.toMatch(/score/);
    const latent = withDensity(small, { score: 'latent' });
    expect(anomalyScoreOf(latent)).toBe('latent');
    expect(describeConfig(latent)).toMatch(/, latent-energy score$/);
    expect(validateConfig(latent).density.score).toBe('latent');
    expect(small.density.score).toBeUndefined();
  });

  it('leaves the map unsmoothed unless the config names a smoothing, and describes it', () => {
    const small = presetConfig('small');
    expect(mapSmoothingOf(small)).toBe(0);
    expect(describeConfig(small)).not.toMatch(/smoothed/);
    const smoothed = withDensity(small, { smoothMm: 6 });
    expect(mapSmoothingOf(smoothed)).toBe(6);
    expect(describeConfig(smoothed)).toMatch(/, map smoothed 6 mm$/);
    expect(describeConfig(withDensity(smoothed, { score: 'latent' }))).toMatch(/, latent-energy score, map smoothed 6 mm$/);
    expect(validateConfig(smoothed).density.smoothMm).toBe(6);
  });

  it('describes a knn density with the size of its bank, the default when the config names none', () => {
    const knn = withDensity(presetConfig('small'), { kind: 'knn', condition: 'none' });
    expect(describeConfig(knn)).toMatch(/, none condition, knn density \(bank of 4096\), /);
    expect(describeConfig(withDensity(knn, { bankSize: 16384 }))).toMatch(/, knn density \(bank of 16384\), /);
    expect(describeConfig(withDensity(knn, { reference: 'scan' }))).toMatch(/, knn density \(the scan's own cells 32 mm away\), /);
    expect(describeConfig(withDensity(knn, { reference: 'both', referenceRows: 500 }))).toMatch(/, knn density \(bank of 4096 or at most 500 of the scan's own cells 32 mm away\), /);
    expect(describeConfig(presetConfig('small'))).not.toMatch(/bank/);
  });

  it('refuses crops that the UNet or the pooling cannot divide, and unknown kinds', () => {
    const bad = (edit: (c: ReturnType<typeof presetConfig>) => void, pattern: RegExp) => {
      const c = presetConfig('small');
      edit(c);
      expect(() => validateConfig(c, 'my.safetensors')).toThrow(pattern);
    };
    bad((c) => (c.train.cropSize = [30, 32, 32]), /^my\.safetensors: train\.cropSize \[30, 32, 32\] must be divisible by 4/);
    bad((c) => (c.density.poolStride = [3, 3, 2]), /must be divisible by density\.poolStride \[3, 3, 2\]/);
    bad((c) => (c.descriptor.channels = [6, 16, 32]), /descriptor: 6 channels do not split into 4 groups/);
    bad((c) => ((c.density as { kind: string }).kind = 'mixture'), /density\.kind must be gaussian, flow or knn/);
    bad((c) => ((c as { version: number }).version = 2), /unsupported version 2/);
    bad((c) => (c.density.kind = 'knn'), /a knn density is unconditioned: density\.condition must be "none", got "masked"/);
    bad((c) => (c.density = { ...c.density, kind: 'knn', condition: 'none', score: 'latent' }), /a knn density has no latent energy/);
    bad((c) => (c.density = { ...c.density, kind: 'knn', condition: 'none', bankSize: 0 }), /density\.bankSize must be an integer from 1 to 1048576, got 0/);
    bad((c) => (c.density = { ...c.density, kind: 'knn', condition: 'none', reference: 'atlas' as 'scan' }), /density\.reference must be bank, scan or both/);
    bad((c) => (c.density = { ...c.density, reference: 'scan' }), /only a knn density compares descriptors with a reference: .*this one is "flow"/);
    bad((c) => (c.density = { ...c.density, referenceRows: 100 }), /only a knn density compares descriptors with its scan: density\.referenceRows .*this one is "flow"/);
    bad((c) => (c.density = { ...c.density, kind: 'knn', condition: 'none', referenceRows: 0 }), /density\.referenceRows must be an integer from 1 to 1048576, got 0/);
    bad((c) => (c.density = { ...c.density, kind: 'knn', condition: 'none', referenceRows: 2.5 }), /density\.referenceRows/);
    bad((c) => ((c.density = { ...c.density, kind: 'knn', condition: 'none' }), (c.descriptor.embedding = 128)), /at most 64 channels, this embedding has 128/);
    bad((c) => (c.condition.inputChannels = 1), /condition\.inputChannels must be 2/);
  });

  it('refuses absurd values of every kind of field, naming the file and the field', () => {
    const bad = (edit: (c: Record<string, any>) => void, pattern: RegExp) => {
      const c = structuredClone(presetConfig('small')) as unknown as Record<string, any>;
      edit(c);
      expect(() => validateConfig(c as never, 'my.safetensors')).toThrow(pattern);
    };
    bad((c) => (c.targetSpacing = [-2.5, 2.5, 2.5]), /^my\.safetensors: targetSpacing\[0\] must be a number from 0\.1 to 20, got -2\.5/);
    bad((c) => (c.targetSpacing = [2.5, 2.5, 2500]), /targetSpacing\[2\] must be a number from 0\.1 to 20, got 2500/);
    bad((c) => (c.targetSpacing = [0.0025, 0.0025, 0.0025]), /targetSpacing\[0\]/);
    bad((c) => (c.targetSpacing = [2.5, 2.5]), /targetSpacing must be a list of 3 values/);
    bad((c) => (c.train.cropSize = [32, 0, 32]), /train\.cropSize\[1\] must be an integer from 1 to 512, got 0/);
    bad((c) => (c.train.cropSize = [32, 32, 100000]), /train\.cropSize\[2\] must be an integer from 1 to 512/);
    bad((c) => (c.descriptor.channels = [8, '16', 32]), /descriptor\.channels\[1\] must be an integer from 1 to 4096, got "16"/);
    bad((c) => (c.descriptor.channels = [8, 16, 1e9]), /descriptor\.channels\[2\] must be an integer/);
    bad((c) => (c.descriptor.embedding = 0), /descriptor\.embedding must be an integer from 1/);
    bad((c) => (c.density.flowHidden = 1.5), /density\.flowHidden must be an integer/);
    bad((c) => (c.density.flowBlocks = -1), /density\.flowBlocks must be an integer from 1 to 64, got -1/);
    bad((c) => (c.density.poolStride = [2, 2, 'two']), /density\.poolStride\[2\]/);
    bad((c) => (c.ssl.temperature = 0), /ssl\.temperature must be a number above 0/);
    bad((c) => (c.ssl.spacingRange = [[3, 3, 3], [2, 2, 2]]), /ssl\.spacingRange: the minimum 3 mm exceeds the maximum 2 mm/);
    bad((c) => (c.train.ssl.lr = Number.NaN), /train\.ssl\.lr must be a number above 0/);
    bad((c) => (c.masking.ratio = 2), /masking\.ratio must be a number from 0 to 1, got 2/);
    bad((c) => (c.density.score = 'energy' as never), /density.score must be nll or latent, got "energy"/);
    bad((c) => (c.density.smoothMm = -1), /density\.smoothMm must be a number from 0 to 100, got -1/);
    bad((c) => (c.density.smoothMm = '6' as never), /density\.smoothMm must be a number from 0 to 100, got "6"/);
    bad((c) => (c.huWindow = [300, -200]), /huWindow: the lower bound 300 HU is not below the upper -200 HU/);
    bad((c) => (c.huWindow = [-200]), /huWindow must be a list of 2 values/);
    bad((c) => (c.huWindow = [-200, 1e6]), /huWindow\[1\] must be a number from -2000 to 4000/);
  });

  it('refuses missing fields by name instead of failing with a TypeError', () => {
    const missing = (edit: (c: Record<string, any>) => void, pattern: RegExp) => {
      const c = structuredClone(presetConfig('tiny')) as unknown as Record<string, any>;
      edit(c);
      expect(() => validateConfig(c as never, 'old.safetensors')).toThrow(pattern);
    };
    missing((c) => delete c.ssl, /^old\.safetensors: ssl must be an object, got nothing/);
    missing((c) => delete c.train.cropSize, /^old\.safetensors: train\.cropSize must be a list of 3 values, got nothing/);
    missing((c) => delete c.targetSpacing, /targetSpacing must be a list of 3 values, got nothing/);
    missing((c) => delete c.descriptor, /descriptor must be an object, got nothing/);
    missing((c) => delete c.density.flowHidden, /density\.flowHidden must be an integer from 1 to 4096, got nothing/);
    missing((c) => delete c.train.steps.density, /train\.steps\.density must be an integer/);
    expect(() => validateConfig(null as never, 'x.safetensors')).toThrow(/^x\.safetensors: the config must be an object, got null/);
  });
});
