// A one-look description of a decoded scan or mask, for `screener info` and the dataset check.
import { orientationCode, type Shape3, swapFirstAndThirdAxes, valueRange, type Vec3 } from '../geometry/volume';
import type { NiftiVolume } from './nifti';

export interface VolumeSummary {
  shape: Shape3;
  spacing: Vec3;
  datatype: string;
  /** Orientation code in the file's own (i, j, k) axis order, as nibabel's aff2axcodes gives it. */
  orientation: string;
  range: [number, number];
  /** An integer image holding only 0 and 1. */
  isMask: boolean;
  /** Voxels set, for a mask. */
  maskVoxels: number;
  /** Volume of the set voxels in millilitres, for a mask. */
  maskMl: number;
}

export function summarizeVolume(volume: NiftiVolume): VolumeSummary {
  const range = valueRange(volume.data);
  const integer = volume.datatype !== 'float32' && volume.datatype !== 'float64';
  const isMask = integer && range[0] >= 0 && range[1] <= 1;
  let maskVoxels = 0;
  if (isMask) for (let i = 0; i < volume.data.length; i++) if (volume.data[i]) maskVoxels++;
  const voxelMl = (volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  return {
    shape: volume.shape,
    spacing: volume.spacing,
    datatype: volume.datatype,
    orientation: orientationCode(swapFirstAndThirdAxes(volume.affine)),
    range,
    isMask,
    maskVoxels,
    maskMl: maskVoxels * voxelMl,
  };
}

export function formatMm(values: readonly number[]): string {
  return values.map((v) => +v.toFixed(3)).join(' x ');
}
