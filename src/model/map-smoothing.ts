// Gaussian smoothing of an anomaly map on its preprocessed grid, the last step of a model's map
// (density.smoothMm). A lesion is a blob of many voxels; much of a map's noise is a voxel or two wide
// (tissue borders, one window's edge), so averaging over a lesion-sized neighbourhood raises a
// lesion above that noise. Voxels outside the body first take the map's minimum inside it (the rule
// the map on the original grid follows anyway), so the air around a patient, which the model never
// saw in training, does not bleed into the skin. No Node imports: pages use it too.
import type { Volume } from '../data/geometry/volume';
import { gaussianBlur3d } from '../data/preprocess/filters';
import { floorOutsideBody } from './anomaly-on-grid';

/**
 * The map smoothed by a Gaussian of standard deviation `sigmaMm` (per axis in voxels: sigmaMm over
 * the grid's spacing), with the floor outside the body; the map itself when sigmaMm is 0.
 */
export function smoothAnomalyMap(
  map: Float32Array,
  scan: { image: Pick<Volume<Float32Array>, 'shape' | 'spacing'>; body: Pick<Volume<Uint8Array>, 'data'> },
  sigmaMm: number,
): Float32Array {
  if (!(sigmaMm >= 0 && Number.isFinite(sigmaMm))) throw new RangeError(`smoothAnomalyMap: the smoothing must be a finite number of mm from 0, got ${sigmaMm}`);
  const body = scan.body.data;
  if (map.length !== body.length) throw new RangeError(`smoothAnomalyMap: ${map.length} values and a ${body.length}-voxel body`);
  if (sigmaMm === 0) return map;
  return gaussianBlur3d(floorOutsideBody(map, body).inside, scan.image.shape, sigmaInVoxels(sigmaMm, scan.image.spacing));
}

function sigmaInVoxels(sigmaMm: number, spacing: readonly number[]): [number, number, number] {
  return [0, 1, 2].map((a) => sigmaMm / spacing[a]!) as [number, number, number];
}
