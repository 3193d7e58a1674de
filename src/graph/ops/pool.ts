// 3-D average pooling on channels-last volumes [N, D, H, W, C].
import { avgPool3dForward, avgPool3dGrad, type Pool3dGeometry } from '../../kernels/pool3d';
import type { Triple } from '../../kernels/conv3d';
import { record } from '../tape';
import { shapeString, type Tensor } from '../tensor';
import { empty } from './create';

function triple(name: string, value: number | readonly number[]): Triple {
  const t = typeof value === 'number' ? [value, value, value] : [...value];
  if (t.length !== 3 || !t.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`avgPool3d: ${name} must be a positive integer or three of them, got ${JSON.stringify(value)}`);
  }
  return t as Triple;
}

/**
 * Means over kernel windows (e.g. [3, 3, 2]) moved by `stride` (default: the kernel, non-overlapping),
 * without padding: output extents floor((in - k) / s) + 1, trailing voxels that fill no window are dropped.
 */
export function avgPool3d(x: Tensor, kernel: number | [number, number, number], stride?: number | [number, number, number]): Tensor {
  if (x.rank !== 5) throw new RangeError(`avgPool3d: input ${shapeString(x.shape)} must have 5 dimensions [N, D, H, W, C]`);
  const k = triple('kernel', kernel);
  const s = triple('stride', stride ?? kernel);
  const input: Triple = [x.shape[1]!, x.shape[2]!, x.shape[3]!];
  if (input.some((e, i) => e < k[i]!)) throw new RangeError(`avgPool3d: kernel [${k.join(', ')}] is larger than input ${shapeString(x.shape)}`);
  const output = input.map((e, i) => Math.floor((e - k[i]!) / s[i]!) + 1) as Triple;
  const geometry: Pool3dGeometry = { batch: x.shape[0]!, channels: x.shape[4]!, input, output, kernel: k, stride: s };
  const y = empty(x.runtime, [geometry.batch, ...output, geometry.channels]);
  avgPool3dForward(x.runtime, geometry, x.buffer, y.buffer);
  return record(y, 'avgPool3d', [x], (g) => {
    const dx = empty(x.runtime, x.shape);
    avgPool3dGrad(x.runtime, geometry, g.buffer, dx.buffer);
    return [dx];
  });
}
