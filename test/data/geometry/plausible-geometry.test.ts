// The ranges a CT's geometry can lie in, and the smallest scan a model can slide its window over.
import { describe, expect, it } from 'vitest';
import { ctGeometryProblem, windowFitProblem } from '../../../src/data/geometry/plausible-geometry';

describe('plausible CT geometry', () => {
  it('accepts CT voxel sizes and extents, refuses the rest with the numbers', () => {
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [2.5, 0.8, 0.8] })).toBeNull();
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [0.0025, 0.0008, 0.0008] })).toMatch(/^voxel size 0\.0025 x 0\.0008 x 0\.0008 mm .* \(0\.1 to 20 mm per axis\)/);
    expect(ctGeometryProblem({ shape: [120, 512, 512], spacing: [250, 80, 80] })).toMatch(/^voxel size 250 x 80 x 80 mm/);
    expect(ctGeometryProblem({ shape: [4, 512, 512], spacing: [2.5, 0.8, 0.8] })).toMatch(/^physical extent 10 x 409\.6 x 409\.6 mm \(4x512x512 voxels .*\(2 cm to 2\.5 m per side\)/);
    expect(ctGeometryProblem({ shape: [1200, 64, 64], spacing: [5, 5, 5] })).toMatch(/^physical extent 6000 x 320 x 320 mm/);
  });

  it('refuses a preprocessed scan that fits inside one window along every axis', () => {
    expect(windowFitProblem([17, 15, 17], [16, 16, 16], [20, 20, 20])).toBeNull();
    expect(windowFitProblem([12, 15, 9], [16, 16, 16], [20, 20, 20])).toMatch(/^after preprocessing \(body crop, 20 x 20 x 20 mm voxels\) the scan is 12x15x9 voxels, smaller than one 16x16x16 window/);
  });
});
