// The conv3d code generator: every `//@NAME` line of every skeleton is filled (with generated code or a
// shared part of shaders/conv3d/shared/), each shared part appears once per kernel, and bad
// configurations are refused before any WGSL is made. The kernels' results are tested in
// implicit-gemm.test.ts.
import { describe, expect, it } from 'vitest';
import { blockedSource, tiledSource, wgradBlockedSource, wgradTiledSource } from '../../../src/kernels/conv3d';

const tile = { tm: 16, tn: 8, tk: 8, rm: 2, rn: 2 };
const sources: Record<string, string> = {
  blocked: blockedSource({ bv: 3, bc: 8, vec4: true, srcChannels: 12, transposed: true, bias: true, activation: 'relu' }),
  'blocked, scalar source': blockedSource({ bv: 4, bc: 4, vec4: false, srcChannels: 3, transposed: false, bias: false, activation: 'none' }),
  'wgrad blocked': wgradBlockedSource({ bo: 8, bi: 4, vec4: false }),
  tiled: tiledSource(tile, { vec4: true, transposed: false, bias: true, activation: 'none' }),
  'wgrad tiled': wgradTiledSource(tile, { vec4: false }),
};

describe('conv3d code generator', () => {
  it('fills every //@ line and splices each shared part once', () => {
    for (const [name, source] of Object.entries(sources)) {
      expect(source, name).not.toMatch(/^\s*\/\/@/m);
      expect(source.match(/^fn voxel_row\(/gm), name).toHaveLength(1);
      expect(source.match(/^struct Params \{/gm), name).toHaveLength(1);
      expect(source.match(/@binding\(0\)/g), name).toHaveLength(1);
      expect(source, name).not.toMatch(/#(if|else|endif)/);
    }
    for (const name of ['tiled', 'wgrad tiled']) {
      expect(sources[name]!.match(/fma\(av\[i\], bv\[j\]/g), name).toHaveLength(1);
      expect(sources[name], name).toMatch(/^const THREADS: u32 = THREADS_M \* THREADS_N;$/m);
    }
  });

  it('gives the same text for the same configuration', () => {
    expect(tiledSource({ ...tile }, { vec4: true, transposed: false, bias: true, activation: 'none' })).toBe(sources.tiled);
  });

  it('refuses bad blocks and tiles', () => {
    expect(() => blockedSource({ bv: 4, bc: 6, vec4: false, srcChannels: 3, transposed: false, bias: false, activation: 'none' })).toThrow(/bad register block/);
    expect(() => wgradBlockedSource({ bo: 4, bi: 2, vec4: true })).toThrow(/bad weight block/);
    expect(() => wgradBlockedSource({ bo: 4, bi: 0, vec4: false })).toThrow(/bad weight block/);
    expect(() => wgradBlockedSource({ bo: 6, bi: 1, vec4: false })).toThrow(/bad weight block/);
    // Read one channel at a time, a block may hold fewer than 4 input channels (a first layer's 1 or 2).
    expect(wgradBlockedSource({ bo: 4, bi: 1, vec4: false })).toContain('const BI: u32 = 1u;');
    expect(() => tiledSource({ ...tile, rm: 3 }, { vec4: false, transposed: false, bias: false, activation: 'none' })).toThrow(/bad tiled configuration/);
    expect(() => wgradTiledSource({ ...tile, tk: 6 }, { vec4: false })).toThrow(/bad tiled configuration/);
  });
});
