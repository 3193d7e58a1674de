// The preprocessed-scan cache: a hit gives what was computed, other options or a touched source
// file miss, a damaged entry is recomputed.
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCases, loadCase } from '../../../src/data/io/dataset.node';
import { PreprocessedCache } from '../../../src/data/preprocess/cache.node';
import { writeToyDataset } from '../../helpers/toy-dataset.node';

const root = mkdtempSync(join(tmpdir(), 'screener-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the preprocessed cache', () => {
  const data = join(root, 'dataset');
  beforeAll(() => writeToyDataset(data));

  it('caches preprocessed scans and recomputes when the source changes', () => {
    const cacheDir = join(root, 'cache');
    const options = { targetSpacing: [2.5, 2.5, 2.5] as [number, number, number] };
    const [first] = listCases(data);
    const cache = new PreprocessedCache(cacheDir, options);
    const computed = cache.get(first!);
    expect([cache.hits, cache.misses]).toEqual([0, 1]);
    const fresh = new PreprocessedCache(cacheDir, options);
    const cached = fresh.get(first!);
    expect([fresh.hits, fresh.misses]).toEqual([1, 0]);
    expect(Array.from(cached.scan.image.data)).toEqual(Array.from(computed.scan.image.data));
    expect(Array.from(cached.scan.body.data)).toEqual(Array.from(computed.scan.body.data));
    expect(Array.from(cached.lesion!)).toEqual(Array.from(computed.lesion!));
    expect(cached.lesion!.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    expect(cached.scan.geometry).toEqual(computed.scan.geometry);
    // Masks from a hit are plain typed arrays with memory of their own: not Node Buffers, whose
    // slice() shares memory and whose constructor is deprecated, nor views that keep the file alive.
    for (const mask of [cached.scan.body.data, cached.scan.originalBody.data, cached.lesion!]) {
      expect(mask.constructor).toBe(Uint8Array);
      expect(mask.buffer.byteLength).toBe(mask.length);
    }
    // Other parameters, or a touched source file, miss the cache.
    const other = new PreprocessedCache(cacheDir, { targetSpacing: [3, 3, 3] });
    other.get(first!);
    expect(other.misses).toBe(1);
    const later = new Date(statSync(first!.ctPath).mtimeMs + 5000);
    utimesSync(first!.ctPath, later, later);
    const touched = new PreprocessedCache(cacheDir, options);
    touched.get(first!);
    expect(touched.misses).toBe(1);
    // A damaged entry is recomputed, not trusted.
    writeFileSync(touched.pathFor(first!), 'garbage');
    const repaired = new PreprocessedCache(cacheDir, options);
    expect(Array.from(repaired.get(first!).scan.image.data)).toEqual(Array.from(computed.scan.image.data));
    expect(repaired.misses).toBe(1);
  });

  it('on a miss preprocesses the case its caller has read already, and only that case', () => {
    const options = { targetSpacing: [2.5, 2.5, 2.5] as [number, number, number] };
    const [first, second] = listCases(data);
    const read = loadCase(first!);
    const expected = new PreprocessedCache(join(root, 'cache-read-here'), options).get(first!);
    // The caller's copy is what gets preprocessed: turn it upside down, and the cached scan says so.
    read.ct.data.reverse();
    const cache = new PreprocessedCache(join(root, 'cache-given'), options);
    const given = cache.get(first!, read);
    expect(cache.misses).toBe(1);
    expect(Array.from(given.scan.image.data)).not.toEqual(Array.from(expected.scan.image.data));
    expect(given.lesion!.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    expect(() => cache.get(second!, read)).toThrow(/was read for/);
  });
});
