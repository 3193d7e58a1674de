// Checks that tie files together: a lesion mask must be a real mask on its CT's grid.
import { DataError } from '../errors';
import { formatShape, sameShape, type Volume, type VoxelArray } from './volume';

/** Largest world distance (mm) between two grids' corresponding voxels still called "the same grid". */
const GRID_TOLERANCE_MM = 1e-3;

export interface MaskOptions {
  /** A mask with no voxel set is an error unless this is true (a healthy case has no lesion file). */
  allowEmpty?: boolean;
}

/** Turns a decoded image into a 0/1 uint8 mask: any non-zero voxel counts as set. */
export function toMask(volume: Volume<VoxelArray>, source: string, options: MaskOptions = {}): Volume<Uint8Array> {
  const data = new Uint8Array(volume.data.length);
  let set = 0;
  for (let i = 0; i < data.length; i++) {
    if (volume.data[i] !== 0) {
      data[i] = 1;
      set++;
    }
  }
  if (set === 0 && !options.allowEmpty) throw new DataError(source, 'empty mask: no voxel is set');
  return { data, shape: volume.shape, spacing: volume.spacing, affine: volume.affine };
}

/** Fails unless the mask lies on exactly the CT's voxel grid (same shape, same voxel-to-world map). */
export function checkSameGrid(mask: Volume<VoxelArray>, maskSource: string, ct: Volume<VoxelArray>, ctSource: string): void {
  if (!sameShape(mask.shape, ct.shape)) {
    throw new DataError(maskSource, `mask grid ${formatShape(mask.shape)} differs from its CT ${ctSource} (${formatShape(ct.shape)})`);
  }
  // Compare where the two affines put the grid's corners, so the tolerance is in millimetres.
  let worst = 0;
  for (const corner of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const p = [corner & 1 ? ct.shape[0] - 1 : 0, corner & 2 ? ct.shape[1] - 1 : 0, corner & 4 ? ct.shape[2] - 1 : 0, 1];
    for (let r = 0; r < 3; r++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < 4; c++) {
        a += mask.affine[c * 4 + r]! * p[c]!;
        b += ct.affine[c * 4 + r]! * p[c]!;
      }
      worst = Math.max(worst, Math.abs(a - b));
    }
  }
  if (worst > GRID_TOLERANCE_MM) {
    throw new DataError(maskSource, `mask affine differs from its CT ${ctSource} (grid corners up to ${worst.toFixed(3)} mm apart)`);
  }
}

