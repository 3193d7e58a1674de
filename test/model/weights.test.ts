// Model files are checked on the CPU before any GPU buffer exists: the tensor list a config builds
// matches the real modules, and a file whose tensors do not match it, are relabelled to an integer
// dtype, or hold a NaN, is refused naming the file and the tensor.
import { describe, expect, it } from 'vitest';
import { presetConfig, withDensity, type ScreenerConfig } from '../../src/model/config';
import { encodeSafetensors } from '../../src/model/safetensors';
import { Screener } from '../../src/model/screener';
import { tensorManifest } from '../../src/model/tensor-manifest';
import { readScreenerWeights } from '../../src/model/weights';
import { testRuntime } from '../helpers/runtime';

const tiny = (density: Partial<ScreenerConfig['density']> = {}) => withDensity(presetConfig('tiny'), density);

/**
 * A model file made on the CPU (values 0.01 * index): the tensors `tensorsOf` builds, optionally
 * edited, under the metadata of `config`.
 */
function modelFile(config: ScreenerConfig, edit: (name: string, data: Float32Array) => void = () => {}, tensorsOf = config): Uint8Array {
  const entries: [string, { shape: number[]; data: Float32Array }][] = [...tensorManifest(tensorsOf)].map(([name, shape]) => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.01 * i);
    edit(name, data);
    return [name, { shape, data }];
  });
  return encodeSafetensors(entries, { format: 'screener', config: JSON.stringify(config), trained_stages: 'descriptor' });
}

/** The same bytes with the first tensor's dtype renamed in the JSON header (same length, same data). */
function relabelFirst(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(out.subarray(8, 8 + n));
  out.set(new TextEncoder().encode(header.replace(`"dtype":"${from}"`, `"dtype":"${to}"`)), 8);
  return out;
}

describe('model weights', () => {
  it('lists exactly the tensors, with their shapes, that each kind of model holds', async () => {
    const rt = await testRuntime();
    const kinds: Partial<ScreenerConfig['density']>[] = [
      { kind: 'flow', condition: 'masked' },
      { kind: 'flow', condition: 'none' },
      { kind: 'gaussian', condition: 'sincos' },
      { kind: 'gaussian', condition: 'none' },
      { kind: 'knn', condition: 'none', bankSize: 37 },
    ];
    for (const density of kinds) {
      const model = Screener.create(rt, tiny(density), 1);
      const actual = new Map([...model.namedTensors()].map(([name, t]) => [name, [...t.shape]]));
      expect(tensorManifest(model.config), JSON.stringify(density)).toEqual(actual);
      model.dispose();
    }
  });

  it('reads a well-formed file', () => {
    const weights = readScreenerWeights(modelFile(tiny()), 'good.safetensors');
    expect(weights.config).toEqual(tiny());
    expect(weights.state.get('descriptor.heads.0.bias')!.length).toBe(8);
    expect([...weights.trainedStages]).toEqual(['descriptor']);
  });

  it('refuses an F32 tensor relabelled I32 (same bytes, read as integers)', () => {
    const bytes = relabelFirst(modelFile(tiny()), 'F32', 'I32');
    expect(() => readScreenerWeights(bytes, 'relabelled.safetensors')).toThrow(
      /^relabelled\.safetensors: tensor "descriptor\.encoder\.0\.0\.conv\.weight" has dtype I32; weights are floating point/,
    );
  });

  it('finds non-finite weights at load, naming the tensor', () => {
    const bytes = modelFile(tiny(), (name, data) => {
      if (name === 'density.out.weight') data[17] = Number.NaN;
    });
    expect(() => readScreenerWeights(bytes, 'nan.safetensors')).toThrow(/^nan\.safetensors: tensor "density\.out\.weight" has 1 non-finite value \(the first at index 17: NaN\)/);
  });

  it('refuses tensors of another shape than the config makes, missing tensors and absurd configs', () => {
    const config = tiny();
    const otherEmbedding = { ...config, descriptor: { ...config.descriptor, embedding: 4 } };
    expect(() => readScreenerWeights(modelFile(config, undefined, otherEmbedding), 'mixed.safetensors')).toThrow(
      /^mixed\.safetensors: tensor "descriptor\.heads\.0\.weight" has shape \[4, 1, 1, 1, 4\], the config makes it \[8, 1, 1, 1, 4\]/,
    );
    const empty = encodeSafetensors([], { format: 'screener', config: JSON.stringify(config) });
    expect(() => readScreenerWeights(empty, 'empty.safetensors')).toThrow(/^empty\.safetensors: tensors do not match the config: missing descriptor\./);
    const absurd = encodeSafetensors([], { format: 'screener', config: JSON.stringify({ ...config, targetSpacing: [-1, 2.5, 2.5] }) });
    expect(() => readScreenerWeights(absurd, 'absurd.safetensors')).toThrow(/^absurd\.safetensors: config: targetSpacing\[0\] must be a number from 0\.1 to 20, got -1/);
  });
});
