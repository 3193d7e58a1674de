// The presets satisfy the networks' invariants, and a config that breaks one is refused by name.
import { describe, expect, it } from 'vitest';
import { conditionChannels, presetConfig, PRESETS, validateConfig, withDensity, withTargetSpacing } from '../../src/model/config';
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

  it('refuses crops that the UNet or the pooling cannot divide, and unknown kinds', () => {
    const bad = (edit: (c: ReturnType<typeof presetConfig>) => void, pattern: RegExp) => {
      const c = presetConfig('small');
      edit(c);
      expect(() => validateConfig(c, 'my.safetensors')).toThrow(pattern);
    };
    bad((c) => (c.train.cropSize = [30, 32, 32]), /^my\.safetensors: train\.cropSize \[30, 32, 32\] must be divisible by 4/);
    bad((c) => (c.density.poolStride = [3, 3, 2]), /must be divisible by density\.poolStride \[3, 3, 2\]/);
    bad((c) => (c.descriptor.channels = [6, 16, 32]), /descriptor: 6 channels do not split into 4 groups/);
    bad((c) => ((c.density as { kind: string }).kind = 'mixture'), /density\.kind must be gaussian or flow/);
    bad((c) => ((c as { version: number }).version = 2), /unsupported version 2/);
    bad((c) => (c.condition.inputChannels = 1), /condition\.inputChannels must be 2/);
  });
});
