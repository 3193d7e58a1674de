// What the trainers read: preprocessed scans (values in [0, 1] on the preprocessed grid), wherever they
// came from: a folder dataset through the preprocessing cache in Node, phantoms generated in memory in
// a browser or a test.
import { preprocessCt, type PreprocessRequest } from '../data/preprocess/preprocess';
import type { Shape3, Vec3, Volume, VoxelArray } from '../data/geometry/volume';

export interface TrainingScan {
  /** Names the scan in messages (a case id or "phantom 3"). */
  id: string;
  /** [0, 1] intensities, row-major [D, H, W]. */
  data: Float32Array;
  shape: Shape3;
  /** Voxel size in mm along (D, H, W). */
  spacing: Vec3;
}

/** Preprocesses a CT in HU (crop to body, resample, window, CLAHE) into a training scan. */
export function trainingScanFromCt(ct: Volume<VoxelArray>, id: string, options: PreprocessRequest): TrainingScan {
  const { image } = preprocessCt(ct, id, options);
  return { id, data: image.data, shape: image.shape, spacing: image.spacing };
}
