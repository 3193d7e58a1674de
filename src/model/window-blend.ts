// Gaussian-weighted blending of overlapping window maps into one map over the scan:
//   map(v) = sum_k weight_k(v) * value_k(v) / sum_k weight_k(v)
// over the windows k that cover voxel v. Sums are kept in float64 so that the blend of a constant map
// is that constant to the last bit of float32, whatever the number of windows.
import { voxelCount, type Shape3 } from '../data/geometry/volume';
import { forEachWindowRow } from './window-placement';

export class WindowBlender {
  private readonly sums: Float64Array;
  private readonly weightSums: Float64Array;
  windows = 0;

  constructor(readonly shape: Shape3) {
    this.sums = new Float64Array(voxelCount(shape));
    this.weightSums = new Float64Array(voxelCount(shape));
  }

  /** Adds one window's values (row-major over `window`) with per-voxel weights; parts outside the scan are dropped. */
  add(origin: Shape3, window: Shape3, values: ArrayLike<number>, weights: ArrayLike<number>): void {
    const n = voxelCount(window);
    if (values.length !== n || weights.length !== n) {
      throw new RangeError(`WindowBlender.add: ${values.length} values and ${weights.length} weights for a ${window.join('x')} window`);
    }
    forEachWindowRow(this.shape, origin, window, (dst, src, from, to) => {
      for (let w = from; w < to; w++) {
        const weight = weights[src + w]!;
        this.sums[dst + w]! += weight * values[src + w]!;
        this.weightSums[dst + w]! += weight;
      }
    });
    this.windows++;
  }

  /** The blended map; fails if some voxel was never covered (a placement bug, not a user error). */
  result(): Float32Array {
    const out = new Float32Array(this.sums.length);
    for (let i = 0; i < out.length; i++) {
      const weight = this.weightSums[i]!;
      if (!(weight > 0)) throw new Error(`WindowBlender: voxel ${i} of ${this.shape.join('x')} is covered by no window`);
      out[i] = this.sums[i]! / weight;
    }
    return out;
  }
}
