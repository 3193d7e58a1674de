// Resizing channels-last volumes [N, D, H, W, C]: trilinear to any size, x2 upsampling, nearest upsampling.
import type { Triple } from '../../kernels/conv3d';
import { resize3d, type Resize3dGeometry, type ResizeKernel } from '../../kernels/resize3d';
import { record } from '../tape';
import { shapeString, type Tensor } from '../tensor';
import { empty } from './create';

function geometryOf(op: string, x: Tensor, output: readonly number[]): Resize3dGeometry {
  if (x.rank !== 5) throw new RangeError(`${op}: input ${shapeString(x.shape)} must have 5 dimensions [N, D, H, W, C]`);
  if (output.length !== 3 || !output.every((e) => Number.isInteger(e) && e >= 1)) {
    throw new RangeError(`${op}: output size must be three positive integers, got ${JSON.stringify(output)}`);
  }
  return { batch: x.shape[0]!, channels: x.shape[4]!, input: [x.shape[1]!, x.shape[2]!, x.shape[3]!], output: [...output] as Triple };
}

function resizeOp(op: string, x: Tensor, g: Resize3dGeometry, forward: ResizeKernel, backward: ResizeKernel): Tensor {
  const y = empty(x.runtime, [g.batch, ...g.output, g.channels]);
  resize3d(x.runtime, forward, g, x.buffer, y.buffer);
  return record(y, op, [x], (dy) => {
    const dx = empty(x.runtime, x.shape);
    resize3d(x.runtime, backward, g, dy.buffer, dx.buffer);
    return [dx];
  });
}

/**
 * Trilinear resize to `size` = [D2, H2, W2], as PyTorch's F.interpolate(mode='trilinear',
 * align_corners=False) given an output size (the scale per axis is in / out).
 */
export function resizeTrilinear(x: Tensor, size: [number, number, number]): Tensor {
  return resizeOp('resizeTrilinear', x, geometryOf('resizeTrilinear', x, size), 'trilinear', 'trilinear_grad');
}

/** Trilinear x2 upsampling (align_corners=False), the top-down merge of the descriptor network. */
export function upsample2x(x: Tensor): Tensor {
  if (x.rank !== 5) throw new RangeError(`upsample2x: input ${shapeString(x.shape)} must have 5 dimensions [N, D, H, W, C]`);
  return resizeTrilinear(x, [2 * x.shape[1]!, 2 * x.shape[2]!, 2 * x.shape[3]!]);
}

/** Nearest-neighbour upsampling by an integer factor per axis: each voxel becomes an f_d x f_h x f_w block. */
export function upsampleNearest(x: Tensor, factor: number | [number, number, number]): Tensor {
  const f = typeof factor === 'number' ? [factor, factor, factor] : [...factor];
  if (f.length !== 3 || !f.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`upsampleNearest: factor must be a positive integer or three of them, got ${JSON.stringify(factor)}`);
  }
  if (x.rank !== 5) throw new RangeError(`upsampleNearest: input ${shapeString(x.shape)} must have 5 dimensions [N, D, H, W, C]`);
  const g = geometryOf('upsampleNearest', x, [x.shape[1]! * f[0]!, x.shape[2]! * f[1]!, x.shape[3]! * f[2]!]);
  return resizeOp('upsampleNearest', x, g, 'nearest', 'nearest_grad');
}
