// Batched matrix multiplication with optional transposes and NumPy broadcasting of the batch axes.
import { matmul as matmulKernel } from '../../kernels/matmul';
import { broadcastShapes, broadcastStrides } from '../broadcast';
import { record } from '../tape';
import { shapeString, Tensor } from '../tensor';
import { empty } from './create';
import { sumTo } from './sum-to';

export interface MatmulOptions {
  /** Use the transpose of a's last two axes: a is [..., K, M]. */
  transposeA?: boolean;
  /** Use the transpose of b's last two axes: b is [..., N, K]. */
  transposeB?: boolean;
}

/**
 * op(a) · op(b) over the last two axes, a: [..., M, K], b: [..., K, N] (before the optional transposes),
 * giving [...batch, M, N]; the leading (batch) axes broadcast, so a 2-D operand applies to every batch.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transposeA = false, transposeB = false } = options;
  if (a.rank < 2 || b.rank < 2) {
    throw new RangeError(`matmul: operands need at least 2 axes, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new TypeError(`matmul: operands must be f32, got ${a.dtype} and ${b.dtype}`);
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kb, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== kb) {
    const describe = (t: Tensor, tr: boolean) => `${shapeString(t.shape)}${tr ? ' (transposed)' : ''}`;
    throw new RangeError(`matmul: inner sizes differ: ${describe(a, transposeA)} has ${k}, ${describe(b, transposeB)} has ${kb}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(aBatch, bBatch);
  } catch {
    throw new RangeError(`matmul: batch axes of ${shapeString(a.shape)} and ${shapeString(b.shape)} do not broadcast`);
  }

  const out = empty(a.runtime, [...batch, m, n]);
  // The batch strides of a contiguous [..., R, C] operand are its own strides scaled by R * C.
  const batchStrides = (shape: readonly number[], rows: number, cols: number) =>
    broadcastStrides(shape, batch).map((s) => s * rows * cols);
  matmulKernel(
    a.runtime,
    batch,
    m,
    k,
    n,
    { buffer: a.buffer, rowStride: transposeA ? 1 : aCols, colStride: transposeA ? aCols : 1, batchStrides: batchStrides(aBatch, aRows, aCols) },
    { buffer: b.buffer, rowStride: transposeB ? 1 : bCols, colStride: transposeB ? bCols : 1, batchStrides: batchStrides(bBatch, bRows, bCols) },
    out.buffer,
  );

  return record(out, 'matmul', [a, b], (g) => {
    // d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, transposed back where the operand was.
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transposeA
        ? matmul(b, g, { transposeA: transposeB, transposeB: true })
        : matmul(g, b, { transposeB: !transposeB });
      da = sumTo(full, a.shape);
    }
    if (b.requiresGrad) {
      const full = transposeB
        ? matmul(g, a, { transposeA: true, transposeB: transposeA })
        : matmul(a, g, { transposeA: !transposeA });
      db = sumTo(full, b.shape);
    }
    return [da, db];
  });
}
