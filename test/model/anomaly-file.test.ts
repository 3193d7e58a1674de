// The anomaly map made and written a slab at a time: the slabs are the whole map's slices (which is
// the earlier whole-volume rule: trilinear back onto the crop, the body minimum everywhere outside the
// body), and the file's bytes do not depend on how the map was cut, so `screener predict` (slabs) and
// the page's download (whole) write the same file.
import { describe, expect, it } from 'vitest';
import { identityAffine } from '../../src/data/geometry/volume';
import { decodeNifti } from '../../src/data/io/nifti';
import { preprocessCt, toOriginalGrid } from '../../src/data/preprocess/preprocess';
import { Rng } from '../../src/data/rng';
import { AnomalyFileWriter, encodeAnomalyMap } from '../../src/model/anomaly-file';
import { AnomalyOnOriginalGrid } from '../../src/model/anomaly-on-grid';
import { anomalyOnOriginalGrid } from '../../src/model/predict';

function scanAndMap() {
  const rng = new Rng(21);
  const shape: [number, number, number] = [14, 16, 18];
  const ct = new Int16Array(14 * 16 * 18).fill(-1000);
  for (let d = 3; d < 12; d++) for (let h = 2; h < 13; h++) for (let w = 4; w < 16; w++) ct[(d * 16 + h) * 18 + w] = 40 + rng.int(-30, 30);
  const affine = identityAffine();
  affine[0] = 1.5;
  const scan = preprocessCt({ data: ct, shape, spacing: [1.5, 1, 1], affine }, 'block', { targetSpacing: [3, 2.5, 2], clahe: false });
  const map = Float32Array.from(scan.image.data, () => rng.normal());
  return { scan, map };
}

describe('the anomaly map in slabs', () => {
  it('gives slabs that are the whole map, as the whole-volume rule makes it', () => {
    const { scan, map } = scanAndMap();
    const onGrid = new AnomalyOnOriginalGrid(map, scan);
    // The rule written out whole, as it was before slabs.
    let floor = Infinity;
    for (let i = 0; i < map.length; i++) if (scan.body.data[i]) floor = Math.min(floor, map[i]!);
    const inside = Float32Array.from(map, (v, i) => (scan.body.data[i] ? v : floor));
    const expected = toOriginalGrid(inside, scan.geometry, { fill: floor }).data;
    for (let i = 0; i < expected.length; i++) if (!scan.originalBody.data[i]) expected[i] = floor;
    expect(onGrid.floor).toBe(floor);
    expect(Array.from(anomalyOnOriginalGrid(map, scan).anomaly.data)).toEqual(Array.from(expected));
    const area = 16 * 18;
    const parts = [[0, 2], [2, 3], [3, 9], [9, 14]].map(([a, b]) => Array.from(onGrid.slab(a!, b!)));
    expect(parts.flat()).toEqual(Array.from(expected));
    expect(onGrid.slab(4, 6).length).toBe(2 * area);
  });

  it('writes the same bytes whatever the slabs, gzip or not, and refuses non-finite scores', () => {
    const { scan, map } = scanAndMap();
    const { anomaly } = anomalyOnOriginalGrid(map, scan);
    for (const gzip of [true, false]) {
      const whole = encodeAnomalyMap(anomaly, 'ct.nii.gz', { gzip });
      const parts: Uint8Array[] = [];
      const writer = new AnomalyFileWriter(anomaly.shape, anomaly.affine, 'ct.nii.gz', (b) => void parts.push(b), { gzip });
      const area = 16 * 18;
      for (let d = 0; d < 14; d += 3) writer.push(anomaly.data.subarray(d * area, Math.min(14, d + 3) * area));
      writer.finish();
      expect(Array.from(parts.flatMap((p) => Array.from(p)))).toEqual(Array.from(whole));
      const back = decodeNifti(whole, 'map.nii.gz');
      expect(Array.from(back.data)).toEqual(Array.from(anomaly.data));
      expect(back.description).toBe('screener anomaly (NLL)');
      expect([writer.min, writer.max]).toEqual([Math.min(...anomaly.data), Math.max(...anomaly.data)]);
    }
    // The header names the score: a knn density's is a distance whatever the score option says.
    expect(decodeNifti(encodeAnomalyMap(anomaly, 'ct.nii.gz', { score: 'nll', smoothMm: 6, density: 'knn' }), 'map.nii.gz').description).toBe('screener anomaly (knn distance, smoothed 6 mm)');
    expect(decodeNifti(encodeAnomalyMap(anomaly, 'ct.nii.gz', { score: 'latent', density: 'flow' }), 'map.nii.gz').description).toBe('screener anomaly (latent energy)');
    // and it says what the distance is to: the scan's own tissue, or the nearer of bank and scan.
    expect(decodeNifti(encodeAnomalyMap(anomaly, 'ct.nii.gz', { density: 'knn', reference: 'scan' }), 'map.nii.gz').description).toBe('screener anomaly (knn distance within the scan)');
    expect(decodeNifti(encodeAnomalyMap(anomaly, 'ct.nii.gz', { density: 'knn', reference: 'both', smoothMm: 6 }), 'map.nii.gz').description).toBe('screener anomaly (knn distance, bank or scan, smoothed 6 mm)');
    const bad = { ...anomaly, data: anomaly.data.slice() };
    bad.data[7] = NaN;
    expect(() => encodeAnomalyMap(bad, 'ct.nii.gz')).toThrow(/^ct\.nii\.gz: the model gave non-finite scores/);
  });
});
