// The ranges a CT's geometry can lie in, the air every CT in HU holds, and the smallest scan a model can
// slide its window over.
import { describe, expect, it } from 'vitest';
import { ctGeometryProblem, ctValueProblem, plausibleCtProblem, windowFitProblem } from '../../../src/data/geometry/plausible-geometry';

describe('plausible CT geometry', () => {
  it('accepts CT voxel sizes and extents, refuses the rest with the numbers', () => {
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [2.5, 0.8, 0.8] })).toBeNull();
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [0.0025, 0.0008, 0.0008] })).toMatch(/^voxel size 0\.0025 x 0\.0008 x 0\.0008 mm .* \(0\.1 to 20 mm per axis\)/);
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [250, 80, 80] })).toMatch(/^voxel size 250 x 80 x 80 mm/);
    expect(ctGeometryProblem({ shape: [4, 512, 512], spacing: [2.5, 0.8, 0.8] })).toMatch(/^physical extent 10 x 409\.6 x 409\.6 mm \(4x512x512 voxels .*\(2 cm to 2\.5 m per side\)/);
    expect(ctGeometryProblem({ shape: [1200, 64, 64], spacing: [5, 5, 5] })).toMatch(/^physical extent 6000 x 320 x 320 mm/);
  });

  it('accepts values with air in them, refuses a scan without any (raw values without their rescale)', () => {
    const ct = Int16Array.from({ length: 1000 }, (_, i) => (i === 617 ? -1000 : 40 + (i % 300)));
    expect(ctValueProblem(ct)).toBeNull();
    expect(ctValueProblem(Float32Array.of(-3024, 50, 1200))).toBeNull(); // padding outside the field of view
    expect(ctValueProblem(Float32Array.of(-500, 0))).toBeNull();
    const raw = ct.map((v) => v + 1024);
    expect(ctValueProblem(raw)).toMatch(/^no voxel is air: the lowest value is 24, where a CT in Hounsfield units has air at about -1000 \(-500 or less\); values stored without their rescale slope and intercept/);
    expect(ctValueProblem(Float32Array.of(-499.5, 10))).toMatch(/the lowest value is -499\.5,/);
    expect(ctValueProblem(Float32Array.of(Number.NaN))).toBeNull(); // non-finite values are refused elsewhere, by name
  });

  it('names the geometry first, then the values, and checks values only when the scan has them', () => {
    const shape: [number, number, number] = [120, 512, 512];
    expect(plausibleCtProblem({ shape, spacing: [2.5, 0.8, 0.8], data: Float32Array.of(-1000, 40) })).toBeNull();
    expect(plausibleCtProblem({ shape, spacing: [2.5, 0.8, 0.8], data: Float32Array.of(0, 40) })).toMatch(/^no voxel is air/);
    expect(plausibleCtProblem({ shape, spacing: [2.5, 0.8, 0.8] })).toBeNull();
    expect(plausibleCtProblem({ shape, spacing: [250, 80, 80], data: Float32Array.of(0, 40) })).toMatch(/^voxel size 250 x 80 x 80 mm/);
  });

  it('refuses a preprocessed scan that fits inside one window along every axis', () => {
    expect(windowFitProblem([17, 15, 17], [16, 16, 16], [20, 20, 20])).toBeNull();
    expect(windowFitProblem([12, 15, 9], [16, 16, 16], [20, 20, 20])).toMatch(/^after preprocessing \(body crop, 20 x 20 x 20 mm voxels\) the scan is 12x15x9 voxels, smaller than one 16x16x16 window/);
  });
});
