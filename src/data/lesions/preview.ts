// A picture of one inserted lesion for a reader to judge: the three views through its centre, cropped
// to the lesion's neighbourhood and magnified, in a soft-tissue window (where a 25-80 HU change shows);
// once plain and once with the mask outlined, so the outline never hides the boundary it marks.
import { cropVolume, type Box } from '../preprocess/body';
import { renderMontage } from '../render/montage';
import { RgbImage } from '../render/png';
import type { Shape3, Vec3, Volume, VoxelArray } from '../geometry/volume';

/** Soft-tissue window (level 40, width 400 HU). */
const SOFT_TISSUE_WINDOW: [number, number] = [-160, 240];
/** Half-width of the neighbourhood shown, in mm. */
const HALF_VIEW_MM = 60;

export function lesionPreview(ct: Volume<VoxelArray>, mask: Volume<Uint8Array>, centreVoxel: Vec3): RgbImage {
  const centre = centreVoxel.map(Math.round) as Shape3;
  const start = [0, 0, 0] as Shape3;
  const shape = [0, 0, 0] as Shape3;
  for (let a = 0; a < 3; a++) {
    const reach = Math.ceil(HALF_VIEW_MM / ct.spacing[a]!);
    start[a] = Math.max(0, centre[a]! - reach);
    shape[a] = Math.min(ct.shape[a]! - 1, centre[a]! + reach) - start[a]! + 1;
  }
  const box: Box = { start, shape };
  const view = cropVolume(ct, box);
  const viewMask = cropVolume(mask, box);
  const options = { centre: centre.map((c, a) => c - start[a]!) as Shape3, window: SOFT_TISSUE_WINDOW, zoom: 4 };
  const plain = renderMontage(view, options);
  const outlined = renderMontage(view, { ...options, mask: viewMask });
  const out = new RgbImage(plain.width, plain.height + outlined.height);
  out.pixels.set(plain.pixels, 0);
  out.pixels.set(outlined.pixels, plain.pixels.length);
  return out;
}
