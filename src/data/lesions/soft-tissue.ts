// Where a synthetic lesion may go: soft tissue inside the body, away from air, lung and bone.
//
// Two maps, deliberately different in strictness:
// - `soft`: inside the body mask, not hostile, and HU in the soft-tissue range after a light smoothing
//   (so single noisy voxels neither open nor close a spot). A lesion needs its centre and most of
//   its voxels here.
// - `hostile`: air, lung and bone by the raw voxel value, and everything outside the body. No
//   lesion ever changes a hostile voxel: a tumour against a vertebra does not change the bone.
// Scans masked outside a region of interest (OpenKBP keeps CT only around the treatment volume and
// sets the rest to -1024 HU) need nothing special: the masked region reads as air, so it is hostile
// and lesions keep away from its edge, staying where real tissue is.
import { bodyMask } from '../preprocess/body';
import { DataError } from '../errors';
import { gaussianBlur3d } from '../preprocess/filters';
import { distanceTransformMm } from './distance';
import { voxelCount, type Volume, type VoxelArray } from '../geometry/volume';

/** Smoothed HU range counted as soft tissue (fat-rich glands to muscle and organs). */
export const SOFT_TISSUE_HU: readonly [number, number] = [-100, 150];
/** Raw HU below which a voxel is air or lung, and above which it is bone, calcification or metal. */
export const HOSTILE_BELOW_HU = -250;
export const HOSTILE_ABOVE_HU = 250;
/** Standard deviation of the light smoothing, in mm (at least half a voxel along each axis). */
const SMOOTHING_MM = 2;

export interface TissueMaps {
  /** 1 where a lesion may lie. */
  soft: Uint8Array;
  /** 1 where no lesion may change a voxel. */
  hostile: Uint8Array;
  /** Distance in mm from each voxel to the nearest voxel that is not soft, or to the grid's edge. */
  softDepthMm: Float32Array;
  /** Number of soft voxels. */
  softCount: number;
  /** Why no lesion can go anywhere, when that is so (no body found). */
  problem?: string;
}

export function tissueMaps(ct: Volume<VoxelArray>): TissueMaps {
  const n = voxelCount(ct.shape);
  const hostile = new Uint8Array(n);
  const soft = new Uint8Array(n);
  let body: Uint8Array;
  try {
    body = bodyMask(ct, 'scan').mask;
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    hostile.fill(1);
    return { soft, hostile, softDepthMm: new Float32Array(n), softCount: 0, problem: error.problem };
  }
  const sigma = ct.spacing.map((s) => Math.max(0.5, SMOOTHING_MM / s)) as [number, number, number];
  const smooth = gaussianBlur3d(Float32Array.from(ct.data), ct.shape, sigma);
  let softCount = 0;
  for (let i = 0; i < n; i++) {
    const v = ct.data[i]!;
    if (!body[i] || v < HOSTILE_BELOW_HU || v > HOSTILE_ABOVE_HU) {
      hostile[i] = 1;
      continue;
    }
    const s = smooth[i]!;
    if (s >= SOFT_TISSUE_HU[0] && s <= SOFT_TISSUE_HU[1]) {
      soft[i] = 1;
      softCount++;
    }
  }
  const notSoft = new Uint8Array(n);
  for (let i = 0; i < n; i++) notSoft[i] = soft[i] ? 0 : 1;
  const softDepthMm = distanceTransformMm(notSoft, ct.shape, ct.spacing, true);
  return { soft, hostile, softDepthMm, softCount };
}
