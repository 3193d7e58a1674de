// The conv3d tuner: defaults until a shape class is tuned, candidates of both tile families, and its
// table, exported and imported for one adapter only.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/gpu/runtime';
import { adapterKey, candidateTiles, conv3dTuner, convFlops, defaultTile, shapeClass, SOFTWARE_TILED_TRIAL_FLOPS, type ConvTile } from '../../../src/kernels/conv3d';
import { convGeometry } from '../../helpers/conv-reference';
import { testRuntime } from '../../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

// One small tile of each family: every pipeline costs a compile on a software adapter.
const blockedTile: ConvTile = { family: 'blocked', bv: 4, bc: 4 };
const tiledTile: ConvTile = { family: 'tiled', tm: 16, tn: 8, tk: 8, rm: 2, rn: 2 };

describe('conv3d tuner', () => {
  const c = convGeometry(1, [6, 5, 7], 4, 8, 3, 1, 1);

  it('answers with the default until a class is tuned, then with the fastest candidate', async () => {
    const tuner = conv3dTuner(rt);
    const software = rt.adapter.software;
    expect(tuner.choose('forward', c)).toEqual(defaultTile(software, 'forward', c));
    expect(tuner.pendingClasses()).toContain(shapeClass('forward', c));
    // Two candidates, one per family, to keep the test short; the full lists are checked below.
    const candidates = [blockedTile, tiledTile];
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
    const large = convGeometry(1, [32, 32, 32], 32, 32, 3, 1, 1);
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
