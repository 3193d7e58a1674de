// Trilinear resize (PyTorch align_corners=False), x2 upsampling and nearest upsampling, with their
// gradients, against float64 references; finite-difference gradient checks.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

type T3 = [number, number, number];
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** PyTorch's align_corners=False source taps along one axis: [[index, weight], ...]. */
function axisTaps(_axis: number, o: number, extentIn: number, extentOut: number): [number, number][] {
  const source = Math.max(((o + 0.5) * extentIn) / extentOut - 0.5, 0);
  const lo = Math.floor(source);
  const hi = lo < extentIn - 1 ? lo + 1 : lo;
  const t = source - lo;
  return [
    [lo, 1 - t],
    [hi, t],
  ];
}

/**
 * A separable resampling in float64: y[o] = sum over (d, h, w) taps of weight * x[i]; also the input
 * gradient for a seed dy, by scattering with the same weights.
 */
function resampleRef(x: Float64Array, shape: number[], out: T3, taps: (axis: number, o: number, extentIn: number, extentOut: number) => [number, number][], dy?: Float64Array) {
  const [N, D, H, W, C] = shape as [number, number, number, number, number];
  const y = new Float64Array(N * out[0] * out[1] * out[2] * C);
  const dx = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let od = 0; od < out[0]; od++)
      for (let oh = 0; oh < out[1]; oh++)
        for (let ow = 0; ow < out[2]; ow++)
          for (const [id, wd] of taps(0, od, D, out[0]))
            for (const [ih, wh] of taps(1, oh, H, out[1]))
              for (const [iw, ww] of taps(2, ow, W, out[2]))
                for (let c = 0; c < C; c++) {
                  const yi = (((n * out[0] + od) * out[1] + oh) * out[2] + ow) * C + c;
                  const xi = (((n * D + id) * H + ih) * W + iw) * C + c;
                  y[yi]! += wd * wh * ww * x[xi]!;
                  if (dy) dx[xi]! += wd * wh * ww * dy[yi]!;
                }
  return { y, dx, shape: [N, ...out, C] };
}

async function runBoth(op: (x: g.Tensor) => g.Tensor, x: Float64Array, shape: number[], outSize: number, dy: Float64Array) {
  return g.tidyAsync(async () => {
    const xt = g.parameter(rt, x, shape);
    const yt = op(xt);
    expect(yt.size).toBe(outSize);
    g.backward(yt, g.fromArray(rt, dy, yt.shape));
    return { shape: yt.shape, y: await yt.read(), dx: await xt.grad!.read() };
  });
}

describe('resizeTrilinear', () => {
  const shape = [2, 5, 6, 7, 3];
  const sizes: T3[] = [
    [10, 12, 14],
    [9, 4, 13],
    [3, 3, 3],
    [5, 6, 7],
    [1, 2, 1],
    [16, 5, 8],
  ];
  for (const size of sizes) {
    it(`forward and gradient match float64: [5, 6, 7] to [${size}]`, async () => {
      const x = randomArray(2 * 5 * 6 * 7 * 3, 31);
      const outSize = 2 * size[0] * size[1] * size[2] * 3;
      const dy = randomArray(outSize, 32);
      const ref = resampleRef(x, shape, size, axisTaps, dy);
      const got = await runBoth((t) => g.resizeTrilinear(t, size), x, shape, outSize, dy);
      expect(got.shape).toEqual(ref.shape);
      expectClose(got.y, ref.y, 1e-4, 1e-5, 'y');
      expectClose(got.dx, ref.dx, 1e-4, 1e-5, 'dx');
    });
  }

  it('gradient matches float64 at the largest upsampling it supports (8x) and refuses more', async () => {
    // Every input is read by up to about 2.5 * 8 + 1 outputs per axis: the gradient kernel's list bound.
    const small = [1, 2, 3, 2, 1];
    const size: T3 = [16, 3, 16];
    const x = randomArray(12, 33);
    const dy = randomArray(16 * 3 * 16, 34);
    const ref = resampleRef(x, small, size, axisTaps, dy);
    const got = await runBoth((t) => g.resizeTrilinear(t, size), x, small, 16 * 3 * 16, dy);
    expectClose(got.dx, ref.dx, 1e-4, 1e-5, 'dx');
    await expect(runBoth((t) => g.resizeTrilinear(t, [17, 3, 2]), x, small, 17 * 3 * 2, randomArray(102, 35))).rejects.toThrow(/at most 8x per axis/);
  });

  it('reproduces values printed by PyTorch (F.interpolate, linear, align_corners=False)', async () => {
    // torch.arange(2.) to size 4 -> [0, 0.25, 0.75, 1]; torch.arange(4.) to size 3 -> [0.1667, 1.5, 2.8333].
    const [up, down] = await g.tidyAsync(async () => [
      await g.resizeTrilinear(g.fromArray(rt, [0, 1], [1, 1, 1, 2, 1]), [1, 1, 4]).read(),
      await g.resizeTrilinear(g.fromArray(rt, [0, 1, 2, 3], [1, 4, 1, 1, 1]), [3, 1, 1]).read(),
    ]);
    expectClose(up, [0, 0.25, 0.75, 1], 1e-6, 1e-7, 'x2');
    expectClose(down, [1 / 6, 1.5, 17 / 6], 1e-6, 1e-7, '4 to 3');
  });

  it('upsample2x doubles every axis like resizeTrilinear', async () => {
    const x = randomArray(1 * 3 * 4 * 5 * 2, 33);
    const ref = resampleRef(x, [1, 3, 4, 5, 2], [6, 8, 10], axisTaps);
    const y = await g.tidyAsync(async () => {
      const t = g.upsample2x(g.fromArray(rt, x, [1, 3, 4, 5, 2]));
      expect(t.shape).toEqual([1, 6, 8, 10, 2]);
      return t.read();
    });
    expectClose(y, ref.y, 1e-4, 1e-5);
  });

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.resizeTrilinear(x, [4, 5, 3]), [{ data: randomArray(24, 34), shape: [1, 3, 2, 2, 2] }]);
  });

  it('rejects bad sizes', () => {
    g.tidy(() => {
      expect(() => g.resizeTrilinear(g.zeros(rt, [1, 2, 2, 2, 1]), [0, 2, 2])).toThrow(/resizeTrilinear: output size/);
      expect(() => g.resizeTrilinear(g.zeros(rt, [2, 2, 2, 1]), [2, 2, 2])).toThrow(/5 dimensions/);
    });
  });
});

describe('channels four at a time (vec4 kernels)', () => {
  // Channel counts that are multiples of 4 take the vec4 kernels; the others above take the scalar ones.
  const shape = [2, 5, 6, 7, 8];
  const cases: [string, T3, (t: g.Tensor) => g.Tensor, (axis: number, o: number, i: number, n: number) => [number, number][]][] = [
    ['trilinear x2', [10, 12, 14], (t) => g.upsample2x(t), axisTaps],
    ['trilinear to [9, 4, 13]', [9, 4, 13], (t) => g.resizeTrilinear(t, [9, 4, 13]), axisTaps],
    ['nearest x[2, 1, 3]', [10, 6, 21], (t) => g.upsampleNearest(t, [2, 1, 3]), (axis, o) => [[Math.floor(o / [2, 1, 3][axis]!), 1]]],
  ];
  for (const [name, out, op, taps] of cases) {
    it(`${name}: forward and gradient match float64 with 8 channels, through the vec4 kernels`, async () => {
      const x = randomArray(size(shape), 41);
      const outSize = 2 * out[0] * out[1] * out[2] * 8;
      const dy = randomArray(outSize, 42);
      const ref = resampleRef(x, shape, out, taps, dy);
      const dispatch = vi.spyOn(rt, 'dispatch');
      let resizes: string[];
      try {
        const got = await runBoth(op, x, shape, outSize, dy);
        expectClose(got.y, ref.y, 1e-4, 1e-5, 'y');
        expectClose(got.dx, ref.dx, 1e-4, 1e-5, 'dx');
        resizes = dispatch.mock.calls.map(([d]) => d.kernel).filter((k) => k.startsWith('resize3d_'));
      } finally {
        dispatch.mockRestore();
      }
      expect(resizes).toHaveLength(2);
      expect(resizes.every((k) => k.endsWith(' (vec4)'))).toBe(true);
    });
  }
});

describe('upsampleNearest', () => {
  for (const factor of [[2, 2, 2], [3, 1, 2]] as T3[]) {
    it(`forward and gradient match float64: factor [${factor}]`, async () => {
      const shape = [2, 5, 6, 7, 3];
      const out = [5 * factor[0], 6 * factor[1], 7 * factor[2]] as T3;
      const x = randomArray(2 * 5 * 6 * 7 * 3, 35);
      const outSize = 2 * out[0] * out[1] * out[2] * 3;
      const dy = randomArray(outSize, 36);
      const taps = (axis: number, o: number): [number, number][] => [[Math.floor(o / factor[axis]!), 1]];
      const ref = resampleRef(x, shape, out, taps, dy);
      const got = await runBoth((t) => g.upsampleNearest(t, factor), x, shape, outSize, dy);
      expect(got.shape).toEqual(ref.shape);
      expectClose(got.y, ref.y, 1e-6, 0, 'y');
      expectClose(got.dx, ref.dx, 1e-5, 1e-6, 'dx');
    });
  }

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.upsampleNearest(x, [2, 1, 3]), [{ data: randomArray(12, 37), shape: [1, 2, 3, 2, 1] }]);
  });
});
