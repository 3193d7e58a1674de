// The fast 3-D convolution kernels (both tile families, all three directions) against float64
// references on odd shapes, over kernel sizes 1 and 3, strides 1 and 2, paddings 0 and 1, batch 1 and 2,
// channel counts with and without the vec4 path; then the tuner, and the conv3d op through the fast path.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import type { Conv3dGeometry, Triple } from '../../src/kernels/conv3d_direct';
import { conv3dFastForwardWith, conv3dFastGradInputWith, conv3dFastGradWeightWith, tileName, type ConvTile } from '../../src/kernels/conv3d_fast';
import { adapterKey, candidateTiles, conv3dTuner, convFlops, defaultTile, shapeClass, SOFTWARE_TILED_TRIAL_FLOPS } from '../../src/kernels/conv3d_tuner';
import { conv3dForward as directForward, conv3dGradInput as directGradInput, conv3dGradWeight as directGradWeight } from '../../src/kernels/conv3d_direct';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const outExtent = (i: number, k: number, s: number, p: number) => Math.floor((i + 2 * p - k) / s) + 1;

function geometry(batch: number, input: Triple, cin: number, cout: number, k: number, s: number, p: number): Conv3dGeometry {
  const output = input.map((e) => outExtent(e, k, s, p)) as Triple;
  return { batch, input, inChannels: cin, output, outChannels: cout, kernel: [k, k, k], stride: [s, s, s], padding: [p, p, p] };
}

/** y, dx and dw of conv3d in float64 (bias added to y), by visiting every (output voxel, tap) pair. */
function reference(c: Conv3dGeometry, x: Float64Array, w: Float64Array, b: Float64Array, dy: Float64Array) {
  const [D, H, W] = c.input;
  const [OD, OH, OW] = c.output;
  const [KD, KH, KW] = c.kernel;
  const taps = KD * KH * KW;
  const ci = c.inChannels;
  const co = c.outChannels;
  const y = new Float64Array(c.batch * OD * OH * OW * co);
  for (let i = 0; i < y.length; i++) y[i] = b[i % co]!;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < c.batch; n++)
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yb = (((n * OD + od) * OH + oh) * OW + ow) * co;
          for (let kd = 0; kd < KD; kd++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const id = od * c.stride[0] - c.padding[0] + kd;
                const ih = oh * c.stride[1] - c.padding[1] + kh;
                const iw = ow * c.stride[2] - c.padding[2] + kw;
                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xb = (((n * D + id) * H + ih) * W + iw) * ci;
                const tap = (kd * KH + kh) * KW + kw;
                for (let o = 0; o < co; o++) {
                  const wb = (o * taps + tap) * ci;
                  let acc = 0;
                  for (let i = 0; i < ci; i++) {
                    acc += x[xb + i]! * w[wb + i]!;
                    dx[xb + i]! += dy[yb + o]! * w[wb + i]!;
                    dw[wb + i]! += dy[yb + o]! * x[xb + i]!;
                  }
                  y[yb + o]! += acc;
                }
              }
        }
  return { y, dx, dw };
}

/** Runs one direction of the fast kernels with an explicit tile and reads the result back. */
async function runFast(
  direction: 'forward' | 'backwardData' | 'backwardWeight',
  tile: ConvTile,
  c: Conv3dGeometry,
  data: { x: Float64Array; w: Float64Array; b: Float64Array | null; dy: Float64Array },
  activation: 'none' | 'relu' = 'none',
): Promise<Float32Array> {
  return g.tidyAsync(async () => {
    const xShape = [c.batch, ...c.input, c.inChannels];
    const yShape = [c.batch, ...c.output, c.outChannels];
    const wShape = [c.outChannels, ...c.kernel, c.inChannels];
    const x = g.fromArray(rt, data.x, xShape);
    const w = g.fromArray(rt, data.w, wShape);
    const dy = g.fromArray(rt, data.dy, yShape);
    if (direction === 'forward') {
      const b = data.b ? g.fromArray(rt, data.b, [c.outChannels]) : null;
      const y = g.empty(rt, yShape);
      conv3dFastForwardWith(rt, tile, c, x.buffer, w.buffer, b?.buffer ?? null, y.buffer, activation);
      return y.read();
    }
    if (direction === 'backwardData') {
      const dx = g.empty(rt, xShape);
      conv3dFastGradInputWith(rt, tile, c, dy.buffer, w.buffer, dx.buffer);
      return dx.read();
    }
    const dw = g.empty(rt, wShape);
    conv3dFastGradWeightWith(rt, tile, c, x.buffer, dy.buffer, dw.buffer);
    return dw.read();
  });
}

// Small tiles, so that the odd shapes below cut through several tiles and leave ragged edges.
const tiles: ConvTile[] = [
  { family: 'blocked', bv: 4, bc: 4 },
  { family: 'blocked', bv: 3, bc: 8, splits: 3 },
  { family: 'tiled', tm: 16, tn: 8, tk: 8, rm: 2, rn: 2 },
  { family: 'tiled', tm: 32, tn: 16, tk: 4, rm: 4, rn: 4, splits: 2 },
];

// The sweep below runs one tile of each family (every pipeline costs a compile on a software adapter);
// the anisotropic case runs all of them.
const sweepTiles = [tiles[1]!, tiles[2]!];

interface Case {
  batch: number;
  size: Triple;
  cin: number;
  cout: number;
}
// Channel counts: multiples of 4 (vec4 path) and not; the second case mixes them in each direction.
const shapes: Case[] = [
  { batch: 2, size: [5, 3, 7], cin: 3, cout: 5 },
  { batch: 1, size: [4, 7, 5], cin: 8, cout: 6 },
  { batch: 1, size: [3, 5, 6], cin: 4, cout: 12 },
];

describe('conv3d fast kernels', () => {
  for (const k of [1, 3])
    for (const s of [1, 2])
      for (const p of [0, 1]) {
        it(`match float64 in all three directions: kernel ${k}, stride ${s}, padding ${p}`, async () => {
          for (const [index, shape] of shapes.entries()) {
            const c = geometry(shape.batch, shape.size, shape.cin, shape.cout, k, s, p);
            const seed = 100 * index + 10 * k + s + p;
            const x = randomArray(c.batch * c.input[0] * c.input[1] * c.input[2] * c.inChannels, seed);
            const w = randomArray(c.outChannels * k ** 3 * c.inChannels, seed + 1);
            const b = randomArray(c.outChannels, seed + 2);
            const dy = randomArray(c.batch * c.output[0] * c.output[1] * c.output[2] * c.outChannels, seed + 3);
            const ref = reference(c, x, w, b, dy);
            for (const tile of sweepTiles) {
              const what = `${tileName(tile)}, ${JSON.stringify(shape)}`;
              expectClose(await runFast('forward', tile, c, { x, w, b, dy }), ref.y, 1e-4, 1e-5, `y, ${what}`);
              expectClose(await runFast('backwardData', tile, c, { x, w, b, dy }), ref.dx, 1e-4, 1e-5, `dx, ${what}`);
              expectClose(await runFast('backwardWeight', tile, c, { x, w, b, dy }), ref.dw, 1e-4, 1e-5, `dw, ${what}`);
            }
          }
        });
      }

  it('fuses bias and relu into the forward epilogue, with and without bias', async () => {
    const c = geometry(1, [5, 4, 3], 4, 7, 3, 1, 1);
    const x = randomArray(5 * 4 * 3 * 4, 41);
    const w = randomArray(7 * 27 * 4, 42);
    const b = randomArray(7, 43);
    const ref = reference(c, x, w, b, new Float64Array(c.output[0] * c.output[1] * c.output[2] * 7));
    const refNoBias = reference(c, x, w, new Float64Array(7), new Float64Array(ref.y.length));
    for (const tile of sweepTiles) {
      const relu = await runFast('forward', tile, c, { x, w, b, dy: new Float64Array(ref.y.length) }, 'relu');
      expectClose(relu, ref.y.map((v) => Math.max(v, 0)), 1e-4, 1e-5, `relu, ${tileName(tile)}`);
      const plain = await runFast('forward', tile, c, { x, w, b: null, dy: new Float64Array(ref.y.length) });
      expectClose(plain, refNoBias.y, 1e-4, 1e-5, `no bias, ${tileName(tile)}`);
    }
  });

  it('handles anisotropic kernels, strides and paddings in every direction', async () => {
    const c: Conv3dGeometry = { batch: 1, input: [6, 5, 7], inChannels: 4, output: [0, 0, 0], outChannels: 4, kernel: [3, 1, 3], stride: [2, 1, 2], padding: [1, 0, 0] };
    c.output = c.input.map((e, i) => outExtent(e, c.kernel[i]!, c.stride[i]!, c.padding[i]!)) as Triple;
    const x = randomArray(6 * 5 * 7 * 4, 51);
    const w = randomArray(4 * 9 * 4, 52);
    const b = randomArray(4, 53);
    const dy = randomArray(c.output[0] * c.output[1] * c.output[2] * 4, 54);
    const ref = reference(c, x, w, b, dy);
    for (const tile of tiles) {
      expectClose(await runFast('forward', tile, c, { x, w, b, dy }), ref.y, 1e-4, 1e-5, `y, ${tileName(tile)}`);
      expectClose(await runFast('backwardData', tile, c, { x, w, b, dy }), ref.dx, 1e-4, 1e-5, `dx, ${tileName(tile)}`);
      expectClose(await runFast('backwardWeight', tile, c, { x, w, b, dy }), ref.dw, 1e-4, 1e-5, `dw, ${tileName(tile)}`);
    }
  });
});

describe('conv3d tuner', () => {
  const c = geometry(1, [6, 5, 7], 4, 8, 3, 1, 1);

  it('answers with the default until a class is tuned, then with the fastest candidate', async () => {
    const tuner = conv3dTuner(rt);
    const software = rt.adapter.software;
    expect(tuner.choose('forward', c)).toEqual(defaultTile(software, 'forward', c));
    expect(tuner.pendingClasses()).toContain(shapeClass('forward', c));
    // Two candidates, one per family, to keep the test short; the full lists are checked below.
    const candidates = [tiles[0]!, tiles[2]!];
    const result = await tuner.tune('forward', c, candidates);
    expect(tuner.pendingClasses()).not.toContain(shapeClass('forward', c));
    expect(result.timings.map((t) => t.tile)).toEqual(expect.arrayContaining(candidates));
    expect(result.timings).toHaveLength(2);
    expect(result.timings.every((t) => Number.isFinite(t.ms) && t.ms >= 0)).toBe(true);
    expect(result.best).toEqual(result.timings[0]!.tile);
    expect(tuner.choose('forward', c)).toEqual(result.best);
    tuner.mode = 'off';
    expect(tuner.choose('forward', c)).toEqual(defaultTile(software, 'forward', c));
    tuner.mode = 'on';
  });

  it('offers both tile families as candidates in every direction, on either kind of adapter', () => {
    // (On a software adapter, only while the convolution is small: see SOFTWARE_TILED_TRIAL_FLOPS.)
    expect(convFlops(c)).toBeLessThan(SOFTWARE_TILED_TRIAL_FLOPS);
    const large = geometry(1, [32, 32, 32], 32, 32, 3, 1, 1);
    expect(candidateTiles(true, 'forward', large).every((t) => t.family === 'blocked')).toBe(true);
    for (const software of [true, false])
      for (const direction of ['forward', 'backwardData', 'backwardWeight'] as const) {
        const families = candidateTiles(software, direction, c).map((t) => t.family);
        expect(families[0]).toBe(software ? 'blocked' : 'tiled');
        expect(new Set(families)).toEqual(new Set(['blocked', 'tiled']));
      }
  });

  it('exports and imports its table for this adapter only', () => {
    const tuner = conv3dTuner(rt);
    const tile: ConvTile = { family: 'tiled', tm: 32, tn: 16, tk: 4, rm: 4, rn: 4 };
    const key = shapeClass('backwardData', c);
    expect(tuner.importTable({ version: 1, adapter: 'some other adapter', entries: { [key]: tile } })).toBe(0);
    expect(tuner.importTable({ version: 1, adapter: adapterKey(rt), entries: { [key]: tile } })).toBe(1);
    expect(tuner.choose('backwardData', c)).toEqual(tile);
    const table = JSON.parse(JSON.stringify(tuner.exportTable()));
    expect(table.adapter).toBe(adapterKey(rt));
    expect(table.entries[key]).toEqual(tile);
  });
});

/** Forces every direction of the op at geometry `c` onto one tile through the tuner's table. */
function useTile(c: Conv3dGeometry, tile: ConvTile): void {
  const entries = Object.fromEntries((['forward', 'backwardData', 'backwardWeight'] as const).map((d) => [shapeClass(d, c), tile]));
  conv3dTuner(rt).importTable({ version: 1, adapter: adapterKey(rt), entries });
}

describe('conv3d op on the fast kernels', () => {
  it('matches the direct reference kernels in every direction, with either tile family', async () => {
    const c = geometry(2, [5, 6, 3], 4, 5, 3, 2, 1);
    const xShape = [c.batch, ...c.input, c.inChannels];
    const wShape = [c.outChannels, ...c.kernel, c.inChannels];
    const yShape = [c.batch, ...c.output, c.outChannels];
    const x = randomArray(xShape.reduce((a, b) => a * b), 61);
    const w = randomArray(wShape.reduce((a, b) => a * b), 62);
    const b = randomArray(c.outChannels, 63);
    const dy = randomArray(yShape.reduce((a, b) => a * b), 64);
    // The direct kernels of conv3d_direct.ts, which the op used before the fast path.
    const direct = await g.tidyAsync(async () => {
      const [xt, wt, bt, dyt] = [g.fromArray(rt, x, xShape), g.fromArray(rt, w, wShape), g.fromArray(rt, b, [c.outChannels]), g.fromArray(rt, dy, yShape)];
      const [y, dx, dw] = [g.empty(rt, yShape), g.empty(rt, xShape), g.empty(rt, wShape)];
      directForward(rt, c, xt.buffer, wt.buffer, bt.buffer, y.buffer);
      directGradInput(rt, c, dyt.buffer, wt.buffer, dx.buffer);
      directGradWeight(rt, c, xt.buffer, dyt.buffer, dw.buffer);
      return Promise.all([y.read(), dx.read(), dw.read()]);
    });
    for (const tile of [tiles[0]!, tiles[2]!]) {
      useTile(c, tile);
      const [y, dx, dw] = await g.tidyAsync(async () => {
        const xt = g.parameter(rt, x, xShape);
        const wt = g.parameter(rt, w, wShape);
        const bt = g.parameter(rt, b, [c.outChannels]);
        const yt = g.conv3d(xt, wt, bt, { stride: 2, padding: 1 });
        g.backward(yt, g.fromArray(rt, dy, yShape));
        return Promise.all([yt.read(), xt.grad!.read(), wt.grad!.read()]);
      });
      expectClose(y, direct[0], 1e-4, 1e-5, `y, ${tileName(tile)}`);
      expectClose(dx, direct[1], 1e-4, 1e-5, `dx, ${tileName(tile)}`);
      expectClose(dw, direct[2], 1e-4, 1e-5, `dw, ${tileName(tile)}`);
    }
  });

  for (const tile of [tiles[0]!, tiles[2]!]) {
    it(`has the finite-difference gradient through the fast path (${tileName(tile)})`, async () => {
      const c = geometry(1, [3, 4, 3], 2, 3, 3, 2, 1);
      useTile(c, tile);
      await gradcheck(rt, (x, w, b) => g.conv3d(x, w, b, { stride: 2, padding: 1 }), [
        { data: randomArray(72, 71), shape: [1, 3, 4, 3, 2] },
        { data: randomArray(162, 72), shape: [3, 3, 3, 3, 2] },
        { data: randomArray(3, 73), shape: [3] },
      ]);
    });
  }

  it('has the finite-difference gradient of a transposed convolution through the fast path', async () => {
    await gradcheck(rt, (x, w) => g.convTranspose3d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), [
      { data: randomArray(24, 81), shape: [1, 2, 3, 2, 2] },
      { data: randomArray(54, 82), shape: [2, 3, 3, 3, 1] },
    ]);
  });
});
