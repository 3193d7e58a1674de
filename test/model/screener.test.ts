// Screener's model API on a tiny config: window scores of the right shape, a file that loads back to
// identical outputs for each kind of density and condition, and clear errors for bad input.
import { describe, expect, it } from 'vitest';
import { fromArray, randomUniform, tidy } from '../../src/graph/index';
import { presetConfig, withDensity, type ScreenerConfig } from '../../src/model/config';
import { encodeSafetensors } from '../../src/model/safetensors';
import { Screener } from '../../src/model/screener';
import { sincosEncoding } from '../../src/model/positional';
import { scaleShiftAffine } from '../../src/data/geometry/volume';
import { testRuntime } from '../helpers/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { randomArray } from '../helpers/reference';
import { KnnDensity } from '../../src/model/density';

const tiny = (density: Partial<ScreenerConfig['density']> = {}) => withDensity(presetConfig('tiny'), density);

describe('Screener model', () => {
  it('scores a window with one NLL per pooled voxel, and loads back to identical scores (flow, masked condition)', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tiny({ kind: 'flow', condition: 'masked' }), 5);
    expect(model.windowShape).toEqual([16, 16, 16]);
    expect(model.poolStride).toEqual([2, 2, 2]);
    const image = randomUniform(rt, [1, 16, 16, 16, 1], 9);
    const scores = model.scoreWindow(image);
    expect(scores.shape).toEqual([1, 8, 8, 8, 1]);
    const before = await scores.read();
    expect(before.every(Number.isFinite)).toBe(true);
    // The same window again: scoring must not change the model (no data initialisation on first use).
    expect(Array.from(await model.scoreWindow(image).read())).toEqual(Array.from(before));

    const bytes = await model.toSafetensors();
    const loaded = Screener.fromSafetensors(rt, bytes, 'tiny.safetensors');
    expect(loaded.config).toEqual(model.config);
    expect([...loaded.namedTensors().keys()]).toEqual([...model.namedTensors().keys()]);
    expect(Array.from(await loaded.scoreWindow(image).read())).toEqual(Array.from(before));
    model.dispose();
    loaded.dispose();
    image.dispose();
  });

  it('loads back to identical scores with a Gaussian density on the sin-cos condition, which needs the position', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tiny({ kind: 'gaussian', condition: 'sincos' }), 6);
    expect(model.conditionNet).toBeNull();
    const image = randomUniform(rt, [1, 16, 16, 16, 1], 10);
    const where = { origin: [3, 40, 17] as [number, number, number], scanShape: [60, 80, 90] as [number, number, number] };
    const a = await tidy(() => model.scoreWindow(image, where)).read();
    const loaded = Screener.fromSafetensors(rt, await model.toSafetensors(), 'sincos.safetensors');
    expect(Array.from(await loaded.scoreWindow(image, where).read())).toEqual(Array.from(a));
    // Elsewhere in the scan the condition, hence the score, differs.
    const b = await loaded.scoreWindow(image, { ...where, origin: [30, 10, 60] }).read();
    expect(Array.from(b)).not.toEqual(Array.from(a));
    expect(() => loaded.scoreWindow(image)).toThrow(/sin-cos condition needs positionInScan/);
    model.dispose();
    loaded.dispose();
  });

  it('scores a batch of windows as it scores each alone (per-window norms and positions)', async () => {
    const rt = await testRuntime();
    for (const density of [{ kind: 'flow', condition: 'masked' }, { kind: 'gaussian', condition: 'sincos' }] as const) {
      const model = Screener.create(rt, tiny(density), 8);
      const pair = randomUniform(rt, [2, 16, 16, 16, 1], 11);
      const values = await pair.read();
      const where = [
        { origin: [0, 4, 8] as [number, number, number], scanShape: [40, 40, 40] as [number, number, number] },
        { origin: [20, 12, 2] as [number, number, number], scanShape: [40, 40, 40] as [number, number, number] },
      ];
      const together = await tidy(() => model.scoreWindow(pair, where)).read();
      const half = together.length / 2;
      for (const k of [0, 1]) {
        const alone = await tidy(() => model.scoreWindow(fromArray(rt, values.subarray(k * 4096, (k + 1) * 4096), [1, 16, 16, 16, 1]), [where[k]!])).read();
        const part = together.subarray(k * half, (k + 1) * half);
        for (let i = 0; i < half; i++) expect(Math.abs(part[i]! - alone[i]!), `${density.condition} window ${k} voxel ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(alone[i]!)));
      }
      pair.dispose();
      model.dispose();
    }
  });

  it('scores a knn density as the distance of each pooled descriptor to the nearest of its bank, and loads it back', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tiny({ kind: 'knn', condition: 'none', bankSize: 50 }), 9);
    expect(model.conditionNet).toBeNull();
    const d = model.config.descriptor.embedding;
    const bank = Float32Array.from(randomArray(50 * d, 21, -0.5, 0.5));
    const density = model.density as KnnDensity;
    rt.write(density.bank.buffer, bank);
    const image = randomUniform(rt, [2, 16, 16, 16, 1], 12);
    const pooled = await tidy(() => model.pooledMaps(image).descriptor).read();
    const scores = await tidy(() => model.scoreWindow(image)).read();
    expect(scores.length).toBe(2 * 8 * 8 * 8);
    for (let i = 0; i < scores.length; i++) {
      let best = Infinity;
      for (let j = 0; j < 50; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += (pooled[i * d + c]! - bank[j * d + c]!) ** 2;
        best = Math.min(best, s);
      }
      expect(Math.abs(scores[i]! - Math.sqrt(best)), `voxel ${i}`).toBeLessThan(1e-4 * (1 + Math.sqrt(best)));
    }
    const loaded = Screener.fromSafetensors(rt, await model.toSafetensors(), 'knn.safetensors');
    expect(Array.from(await tidy(() => loaded.scoreWindow(image)).read())).toEqual(Array.from(scores));
    model.dispose();
    loaded.dispose();
    image.dispose();
  });

  it('gives the knn distance the finite-difference gradient in the descriptors', async () => {
    const rt = await testRuntime();
    const density = new KnnDensity(rt, 3, 4);
    rt.write(density.bank.buffer, Float32Array.from([0, 0, 0, 1, 1, 1, -1, 0.5, 0, 0.3, -0.8, 0.6]));
    // Queries well inside one bank row's cell, so that the step of the check does not change the nearest row.
    await gradcheck(rt, (x) => density.score(x!, null, 'nll'), [{ data: [0.1, 0.2, -0.1, 0.9, 1.2, 0.8, -0.7, 0.4, 0.1, 0.5, -0.6, 0.4], shape: [4, 3] }], { eps: 1e-3 });
    density.dispose();
  });

  it('rejects a window of the wrong shape and files that are not Screener models', async () => {
    const rt = await testRuntime();
    const model = Screener.create(rt, tiny({ kind: 'gaussian', condition: 'none' }), 7);
    const wrong = fromArray(rt, new Float32Array(8 * 16 * 16), [1, 8, 16, 16, 1]);
    expect(() => model.scoreWindow(wrong)).toThrow(/must be \[N, 16, 16, 16, 1\]/);
    const plain = encodeSafetensors([['w', { shape: [1], data: new Float32Array(1) }]]);
    expect(() => Screener.fromSafetensors(rt, plain, 'other.safetensors')).toThrow(/^other\.safetensors: not a Screener model/);
    const bytes = await model.toSafetensors();
    expect(() => Screener.fromSafetensors(rt, bytes.subarray(0, bytes.length - 8), 'cut.safetensors')).toThrow(/^cut\.safetensors: truncated/);
    model.dispose();
  });

  it('encodes positions as sin and cos of 2^k pi u, u the position in the scan scaled to [0, 1]', () => {
    // One pooled voxel with stride 2 covers window voxels 0 and 1: centre 0.5, at scan index 10.5.
    const code = sincosEncoding([1, 1, 1], [2, 2, 2], scaleShiftAffine([1, 1, 1], [10, 0, 20]), [22, 10, 43], 2);
    const u = [(10.5 + 0.5) / 22, (0.5 + 0.5) / 10, (20.5 + 0.5) / 43];
    const expected = u.flatMap((v) => [Math.sin(Math.PI * v), Math.cos(Math.PI * v), Math.sin(2 * Math.PI * v), Math.cos(2 * Math.PI * v)]);
    expect(Array.from(code).map((v) => +v.toFixed(5))).toEqual(expected.map((v) => +v.toFixed(5)));
  });
});
