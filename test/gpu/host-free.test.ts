// Runtime pieces that need no device: grid folding, uniform packing, shader preprocessing, pool buckets.
import { describe, expect, it } from 'vitest';
import { checkGrid, foldWorkgroups } from '../../src/gpu/grid';
import { bucketSize } from '../../src/gpu/pool';
import { kernelSource, preprocess } from '../../src/gpu/shader';
import { uniforms } from '../../src/gpu/uniforms';

describe('foldWorkgroups', () => {
  it('keeps counts within the limit one-dimensional', () => {
    expect(foldWorkgroups(0, 65535)).toEqual([0, 1, 1]);
    expect(foldWorkgroups(65535, 65535)).toEqual([65535, 1, 1]);
  });

  it('folds larger counts into grids that cover them with little slack', () => {
    for (const count of [65536, 100_000, 65535 * 3 + 7, 2 ** 31 - 1, 65535 ** 2 + 1]) {
      const [x, y, z] = foldWorkgroups(count, 65535);
      for (const n of [x, y, z]) expect(n).toBeLessThanOrEqual(65535);
      expect(x * y * z).toBeGreaterThanOrEqual(count);
      expect(x * y * z - count).toBeLessThan(x * y + y * 2 + 1);
    }
  });

  it('refuses what no grid can hold and explicit grids over the limit', () => {
    expect(() => foldWorkgroups(65535 ** 3 + 1, 65535)).toThrow(/exceed/);
    expect(() => foldWorkgroups(-1, 65535)).toThrow(RangeError);
    expect(() => checkGrid([70000, 1, 1], 65535, 'wide')).toThrow(/kernel "wide"/);
  });
});

describe('uniforms', () => {
  it('packs scalars densely and aligns vec4 to 16 bytes, padding the size to 16', () => {
    const bytes = uniforms().u32(7).f32(1.5).vec4i(-1, 2, 3).i32(-9).bytes();
    expect(bytes.byteLength).toBe(48);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(0, true)).toBe(7);
    expect(view.getFloat32(4, true)).toBe(1.5);
    expect([view.getInt32(16, true), view.getInt32(20, true), view.getInt32(24, true), view.getInt32(28, true)]).toEqual([-1, 2, 3, 0]);
    expect(view.getInt32(32, true)).toBe(-9);
  });

  it('rejects values the WGSL type cannot hold', () => {
    expect(() => uniforms().u32(-1)).toThrow(RangeError);
    expect(() => uniforms().u32(1.5)).toThrow(RangeError);
    expect(() => uniforms().i32(2 ** 31)).toThrow(RangeError);
  });
});

describe('preprocess', () => {
  const source = 'a\n#if FAST\nfast\n#elif SMALL\nsmall\n#else\nplain\n#endif\nz';
  it('keeps the branch whose define is set', () => {
    expect(preprocess(source, { FAST: true }).replace(/\s+/g, ' ').trim()).toBe('a fast z');
    expect(preprocess(source, { SMALL: 1 }).replace(/\s+/g, ' ').trim()).toBe('a small z');
    expect(preprocess(source, {}).replace(/\s+/g, ' ').trim()).toBe('a plain z');
  });

  it('prepends the prelude with the workgroup folding helper', () => {
    expect(kernelSource('fn main() {}')).toContain('fn flat_workgroup');
  });
});

describe('bucketSize', () => {
  it('rounds up to at most 25 % above the request and never below 256 bytes', () => {
    expect(bucketSize(1)).toBe(256);
    expect(bucketSize(1024)).toBe(1024);
    expect(bucketSize(1025)).toBe(1280);
    for (const n of [300, 5000, 123457, 10_000_001]) {
      expect(bucketSize(n)).toBeGreaterThanOrEqual(n);
      expect(bucketSize(n)).toBeLessThanOrEqual(n * 1.25);
    }
  });
});
