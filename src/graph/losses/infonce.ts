// Symmetric InfoNCE (the CLIP form) over paired embeddings, composed from existing ops: one n x n
// matmul of the normalised embeddings and two logsumexp reductions.
import { shapeString, type Tensor } from '../tensor';
import { add, mul, mulScalar, sub } from '../ops/elementwise';
import { matmul } from '../ops/matmul';
import { logsumexp, mean, sum } from '../ops/reduce';
import { l2Normalize } from './l2-normalize';

export interface InfoNCEOptions {
  /** Softmax temperature tau; 0.1 in the paper. */
  temperature?: number;
  /** Guards the L2 normalisation of near-zero vectors (see l2Normalize). */
  eps?: number;
}

/**
 * For za, zb of shape [n, d] whose rows i are positive pairs and all other rows negatives: the logits
 * are cos(za_i, zb_j) / tau, and the loss is the cross-entropy with the diagonal as targets, averaged
 * over the rows (za against all of zb) and the columns (zb against all of za). Shape [].
 */
export function infoNCE(za: Tensor, zb: Tensor, options: InfoNCEOptions = {}): Tensor {
  const { temperature = 0.1, eps = 1e-6 } = options;
  if (za.rank !== 2 || zb.rank !== 2 || za.shape[0] !== zb.shape[0] || za.shape[1] !== zb.shape[1]) {
    throw new RangeError(`infoNCE: embeddings must both be [n, d], got ${shapeString(za.shape)} and ${shapeString(zb.shape)}`);
  }
  if (!(temperature > 0)) throw new RangeError(`infoNCE: the temperature must be positive, got ${temperature}`);
  const n = za.shape[0]!;
  const a = l2Normalize(za, eps);
  const b = l2Normalize(zb, eps);
  const logits = mulScalar(matmul(a, b, { transposeB: true }), 1 / temperature);
  // The targets' logits are the diagonal, i.e. the row-wise dot products of a and b: no gather needed.
  const positives = mulScalar(sum(mul(a, b)), 1 / (temperature * n));
  const rows = mean(logsumexp(logits, 1));
  const columns = mean(logsumexp(logits, 0));
  return sub(mulScalar(add(rows, columns), 0.5), positives);
}

