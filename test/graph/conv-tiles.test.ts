// The conv3d op (forward and both gradients) run on one tile of each family, forced through the tuner's
// table, against the float64 reference and by finite differences; conv.test.ts covers the op on the
// default tiles.
import { beforeAll, describe, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { adapterKey, conv3dTuner, shapeClass, tileName, type Conv3dGeometry, type ConvTile } from '../../src/kernels/conv3d';
import { conv3dReference, convGeometry } from '../helpers/conv-reference';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

// One small tile of each family, so that the shapes below cut through several tiles.
const opTiles: ConvTile[] = [
  { family: 'blocked', bv: 4, bc: 4 },
  { family: 'tiled', tm: 16, tn: 8, tk: 8, rm: 2, rn: 2 },
];

/** Forces every direction of the op at geometry `c` onto one tile through the tuner's table. */
function useTile(c: Conv3dGeometry, tile: ConvTile): void {
  const entries = Object.fromEntries((['forward', 'backwardData', 'backwardWeight'] as const).map((d) => [shapeClass(d, c), tile]));
  conv3dTuner(rt).importTable({ version: 1, adapter: adapterKey(rt), entries });
}

describe('conv3d op on each tile family', () => {
  it('matches the float64 reference in every direction, with either tile family', async () => {
    const c = convGeometry(2, [5, 6, 3], 4, 5, 3, 2, 1);
    const xShape = [c.batch, ...c.input, c.inChannels];
    const wShape = [c.outChannels, ...c.kernel, c.inChannels];
    const yShape = [c.batch, ...c.output, c.outChannels];
    const x = randomArray(xShape.reduce((a, b) => a * b), 61);
    const w = randomArray(wShape.reduce((a, b) => a * b), 62);
    const b = randomArray(c.outChannels, 63);
    const dy = randomArray(yShape.reduce((a, b) => a * b), 64);
    const ref = conv3dReference(c, x, w, b, dy);
    for (const tile of opTiles) {
      useTile(c, tile);
      const [y, dx, dw] = await g.tidyAsync(async () => {
        const xt = g.parameter(rt, x, xShape);
        const wt = g.parameter(rt, w, wShape);
        const bt = g.parameter(rt, b, [c.outChannels]);
        const yt = g.conv3d(xt, wt, bt, { stride: 2, padding: 1 });
        g.backward(yt, g.fromArray(rt, dy, yShape));
        return Promise.all([yt.read(), xt.grad!.read(), wt.grad!.read()]);
      });
      expectClose(y, ref.y, 1e-4, 1e-5, `y, ${tileName(tile)}`);
      expectClose(dx, ref.dx, 1e-4, 1e-5, `dx, ${tileName(tile)}`);
      expectClose(dw, ref.dw, 1e-4, 1e-5, `dw, ${tileName(tile)}`);
    }
  });

  for (const tile of opTiles) {
    it(`has the finite-difference gradient on that tile (${tileName(tile)})`, async () => {
      const c = convGeometry(1, [3, 4, 3], 2, 3, 3, 2, 1);
      useTile(c, tile);
      await gradcheck(rt, (x, w, b) => g.conv3d(x, w, b, { stride: 2, padding: 1 }), [
        { data: randomArray(72, 71), shape: [1, 3, 4, 3, 2] },
        { data: randomArray(162, 72), shape: [3, 3, 3, 3, 2] },
        { data: randomArray(3, 73), shape: [3] },
      ]);
    });
  }

  it('has the finite-difference gradient of a transposed convolution on the default tiles', async () => {
    await gradcheck(rt, (x, w) => g.convTranspose3d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), [
      { data: randomArray(24, 81), shape: [1, 2, 3, 2, 2] },
      { data: randomArray(54, 82), shape: [2, 3, 3, 3, 1] },
    ]);
  });
});
