// A toy CT (a box of soft tissue in air, 3 x 2 x 2 mm voxels, LPS-oriented) and a small data folder of
// it, for the tests of the disk-side data handling.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { affineFromRows, type Shape3, type Volume } from '../../src/data/geometry/volume';
import { writeNifti } from '../../src/data/io/files.node';

const affine = affineFromRows([[-2, 0, 0, 10], [0, -2, 0, 20], [0, 0, 3, -50]].map((r) => [r[2]!, r[1]!, r[0]!, r[3]!]));
export function toyCt(shape: Shape3 = [10, 12, 14]): Volume<Int16Array> {
  const data = new Int16Array(shape[0] * shape[1] * shape[2]).fill(-1000);
  for (let d = 2; d < 8; d++) for (let h = 3; h < 10; h++) for (let w = 3; w < 11; w++) data[(d * shape[1] + h) * shape[2] + w] = 40 + ((d + h + w) % 7);
  return { data, shape, spacing: [3, 2, 2], affine };
}

/**
 * Writes a data folder with two cases at different depths, one with a 48-voxel lesion mask, and an
 * empty folder that is no case.
 */
export function writeToyDataset(data: string): void {
  const ct = toyCt();
  const lesion = { ...ct, data: new Uint8Array(ct.data.length) };
  for (let d = 4; d < 7; d++) for (let h = 5; h < 9; h++) for (let w = 6; w < 10; w++) lesion.data[(d * 12 + h) * 14 + w] = 1;
  writeNifti(join(data, 'groupA', 'case1', 'ct.nii.gz'), ct);
  writeNifti(join(data, 'groupA', 'case1', 'lesion.nii.gz'), lesion);
  writeNifti(join(data, 'groupB', 'nested', 'case2', 'ct.nii.gz'), ct);
  mkdirSync(join(data, 'empty-folder'), { recursive: true });
}
