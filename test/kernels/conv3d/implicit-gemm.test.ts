// The implicit-GEMM 3-D convolution kernels (both tile families, all three directions) against the
// float64 reference on odd shapes, over kernel sizes 1 and 3, strides 1 and 2, paddings 0 and 1, batch 1
// and 2, channel counts with and without the vec4 path, and anisotropic geometry; outputs are poisoned
// (NaN) first by the test runtime, so an unwritten element fails.
import { beforeAll, describe, it } from 'vitest';
import * as g from '../../../src/graph';
import type { Runtime } from '../../../src/gpu/runtime';
import { conv3dFastForwardWith, conv3dFastGradInputWith, conv3dFastGradWeightWith, tileName, type Conv3dGeometry, type ConvTile, type Triple } from '../../../src/kernels/conv3d';
import { conv3dReference as reference, convGeometry } from '../../helpers/conv-reference';
import { expectClose, randomArray } from '../../helpers/reference';
import { testRuntime } from '../../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

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
// Channel counts: multiples of 4 (vec4 path) and not; the second case mixes them in each direction. The
// blocked kernels write out a channel loop of up to 4 steps and keep a longer one a loop: 5 source channels
// (backward-data of the first case) and 20 and 24 (the last case, vec4s) take the loop. One input
// channel (a first layer's) gives the backward-weight block a single input channel.
const shapes: Case[] = [
  { batch: 2, size: [5, 3, 7], cin: 3, cout: 5 },
  { batch: 2, size: [4, 5, 3], cin: 1, cout: 8 },
  { batch: 1, size: [4, 7, 5], cin: 8, cout: 6 },
  { batch: 1, size: [3, 5, 6], cin: 4, cout: 12 },
  { batch: 1, size: [3, 4, 3], cin: 20, cout: 24 },
];

describe('conv3d fast kernels', () => {
  for (const k of [1, 3])
    for (const s of [1, 2])
      for (const p of [0, 1]) {
        it(`match float64 in all three directions: kernel ${k}, stride ${s}, padding ${p}`, async () => {
          for (const [index, shape] of shapes.entries()) {
            const c = convGeometry(shape.batch, shape.size, shape.cin, shape.cout, k, s, p);
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
    const c = convGeometry(1, [5, 4, 3], 4, 7, 3, 1, 1);
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
    const c = convGeometry(1, [6, 5, 7], 4, 4, [3, 1, 3], [2, 1, 2], [1, 0, 0]);
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
