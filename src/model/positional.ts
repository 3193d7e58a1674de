// The sin-cos positional condition of the paper's ablation (as in CFLOW-style density models): each
// pooled voxel's position in the preprocessed scan (which is cropped to the body box), scaled to
// [0, 1] per axis, encoded as sin(2^k pi u) and cos(2^k pi u) for k < F, so 6F channels. Computed on
// the CPU: it is a few thousand voxels per window and depends only on geometry.
import { applyAffine, type Affine } from '../data/geometry/volume';
import type { Triple } from './config';

/**
 * The encoding at every voxel of a pooled grid of `gridShape`, channels-last [D, H, W, 6F] row-major.
 * `toScan` maps a full-resolution window voxel (d, h, w) to a (continuous) voxel index of the scan;
 * pooled voxel j covers window voxels j * stride .. j * stride + stride - 1, so its centre is
 * j * stride + (stride - 1) / 2.
 */
export function sincosEncoding(gridShape: Triple, stride: Triple, toScan: Affine, scanShape: Triple, frequencies: number): Float32Array {
  const channels = 6 * frequencies;
  const [D, H, W] = gridShape;
  const out = new Float32Array(D * H * W * channels);
  let o = 0;
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const centre = [d, h, w].map((j, a) => j * stride[a]! + (stride[a]! - 1) / 2);
        const scan = applyAffine(toScan, centre);
        for (let a = 0; a < 3; a++) {
          // Voxel centres span [0, n - 1]; map the scan's extent [-0.5, n - 0.5] onto [0, 1].
          const u = (scan[a]! + 0.5) / scanShape[a]!;
          for (let k = 0; k < frequencies; k++) {
            const angle = 2 ** k * Math.PI * u;
            out[o++] = Math.sin(angle);
            out[o++] = Math.cos(angle);
          }
        }
      }
    }
  }
  return out;
}
