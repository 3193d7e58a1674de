// The anomaly map as a file: float32 NLL per voxel, NIfTI-1 on the input's grid and affine. One
// encoder for `screener predict` and the page's download, so both give the same bytes.
import { DataError } from '../data/errors';
import { encodeNifti } from '../data/nifti';
import type { Volume } from '../data/volume';

export const ANOMALY_DESCRIPTION = 'screener anomaly (NLL)';

/**
 * Encodes an anomaly map (gzip unless told otherwise). Non-finite scores mean a damaged or untrained
 * model; they are refused, naming the scan they came from, rather than written.
 */
export function encodeAnomalyMap(anomaly: Volume<Float32Array>, source: string, options: { gzip?: boolean } = {}): Uint8Array {
  if (!anomaly.data.every(Number.isFinite)) throw new DataError(source, 'the model gave non-finite scores (a damaged or untrained model?)');
  return encodeNifti(anomaly, { datatype: 'float32', description: ANOMALY_DESCRIPTION, gzip: options.gzip ?? true }, source);
}
