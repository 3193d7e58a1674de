// Picking rows (embeddings at sampled voxels) and the scatter-add that is its gradient.
//
// An index outside [0, rows) gathers a row of zeros and scatters nothing, so the pair stays each
// other's adjoint even for bad indices; checking them on the CPU would need a readback mid-step.
import { gatherRows as gatherKernel, scatterAddRows as scatterKernel, voxelRows } from '../../kernels/gather';
import { nearestRows as nearestKernel } from '../../kernels/nearest-row';
import { record } from '../tape';
import { shapeString, Tensor } from '../tensor';
import { empty, zeros } from './create';
import { reshape } from './shape';

function checkIndices(op: string, indices: Tensor): void {
  if (indices.dtype === 'f32') throw new TypeError(`${op}: indices must be an i32 or u32 tensor, got f32`);
  if (indices.rank !== 1) throw new RangeError(`${op}: indices must be 1-D [K], got ${shapeString(indices.shape)}`);
}

/** out[k, :] = x[indices[k], :] for x [R, C] and integer indices [K]; gives [K, C]. */
export function gatherRows(x: Tensor, indices: Tensor): Tensor {
  checkIndices('gatherRows', indices);
  if (x.rank !== 2 || x.dtype !== 'f32') throw new RangeError(`gatherRows: x must be an f32 [R, C] tensor, got ${x.dtype} ${shapeString(x.shape)}`);
  const [rows, cols] = x.shape as [number, number];
  const count = indices.size;
  const out = empty(x.runtime, [count, cols]);
  gatherKernel(x.runtime, x.buffer, rows, cols, indices.buffer, count, out.buffer);
  return record(out, 'gatherRows', [x], (g) => [scatterAddRows(x.shape, indices, g)]);
}

/**
 * A zero tensor of `shape` [R, C] with values[k, :] added to row indices[k]; repeated indices sum, in
 * index order, so the result is deterministic.
 */
export function scatterAddRows(shape: readonly number[], indices: Tensor, values: Tensor): Tensor {
  checkIndices('scatterAddRows', indices);
  if (shape.length !== 2) throw new RangeError(`scatterAddRows: target shape must be [R, C], got ${shapeString(shape)}`);
  const [rows, cols] = shape as [number, number];
  const count = indices.size;
  if (values.rank !== 2 || values.shape[0] !== count || values.shape[1] !== cols || values.dtype !== 'f32') {
    throw new RangeError(`scatterAddRows: values must be f32 [${count}, ${cols}] for ${count} indices into ${shapeString(shape)}, got ${values.dtype} ${shapeString(values.shape)}`);
  }
  const out = zeros(values.runtime, shape);
  scatterKernel(values.runtime, values.buffer, indices.buffer, count, rows, cols, out.buffer);
  return record(out, 'scatterAddRows', [values], (g) => [gatherRows(g, indices)]);
}

/**
 * The C-vector of a channels-last map [N, D, H, W, C] at each voxel coords[k] = (n, d, h, w), coords
 * an i32 [K, 4] tensor; gives [K, C]. Coordinates outside the map give zeros (and no gradient).
 */
export function gatherVoxels(featureMap: Tensor, coords: Tensor): Tensor {
  if (featureMap.rank !== 5) throw new RangeError(`gatherVoxels: feature map must be [N, D, H, W, C], got ${shapeString(featureMap.shape)}`);
  if (coords.dtype === 'f32' || coords.rank !== 2 || coords.shape[1] !== 4) {
    throw new RangeError(`gatherVoxels: coords must be an integer [K, 4] tensor of (n, d, h, w), got ${coords.dtype} ${shapeString(coords.shape)}`);
  }
  const [n, d, h, w, c] = featureMap.shape as [number, number, number, number, number];
  const count = coords.shape[0]!;
  const rows = empty(coords.runtime, [count], 'i32');
  voxelRows(coords.runtime, coords.buffer, count, [n, d, h, w], rows.buffer);
  return gatherRows(reshape(featureMap, [n * d * h * w, c]), rows);
}

/**
 * The index (i32 [M]) of the nearest row of `bank` [C, D] to each row of x [M, D], in Euclidean
 * distance, the lowest on a tie. With `apart` (positions xPosition [M, 3] and bankPosition [C, 3]), only
 * bank rows farther than apart.minDistance from the query's position count, and a query with none that
 * far gets -1 (which gatherRows turns into a row of zeros). Integer indices carry no gradient; gather
 * the rows (gatherRows) to differentiate the distance itself.
 */
export function nearestRows(x: Tensor, bank: Tensor, apart?: { xPosition: Tensor; bankPosition: Tensor; minDistance: number }): Tensor {
  if (x.rank !== 2 || bank.rank !== 2 || x.dtype !== 'f32' || bank.dtype !== 'f32' || x.shape[1] !== bank.shape[1]) {
    throw new RangeError(`nearestRows: x [M, D] and bank [C, D] must be f32 with the same D, got ${x.dtype} ${shapeString(x.shape)} and ${bank.dtype} ${shapeString(bank.shape)}`);
  }
  const [rows, cols] = x.shape as [number, number];
  if (apart) {
    for (const [name, t, n] of [['xPosition', apart.xPosition, rows], ['bankPosition', apart.bankPosition, bank.shape[0]!]] as const) {
      if (t.rank !== 2 || t.dtype !== 'f32' || t.shape[0] !== n || t.shape[1] !== 3) {
        throw new RangeError(`nearestRows: ${name} must be f32 [${n}, 3], one position per row, got ${t.dtype} ${shapeString(t.shape)}`);
      }
    }
  }
  const out = empty(x.runtime, [rows], 'i32');
  const positions = apart && { xPosition: apart.xPosition.buffer, bankPosition: apart.bankPosition.buffer, minDistance: apart.minDistance };
  nearestKernel(x.runtime, x.buffer, rows, cols, bank.buffer, bank.shape[0]!, out.buffer, undefined, positions);
  return out;
}
