// Scaling vectors along the last axis to unit length, for cosine-similarity losses.
import type { Tensor } from '../tensor';
import { add, div, sqrt, square } from '../ops/elementwise';
import { sum } from '../ops/reduce';

/**
 * x / sqrt(|x|^2 + eps^2) along the last axis. Equal to x / max(|x|, eps) (F.normalize) except for
 * vectors shorter than about eps, and unlike it the gradient stays finite at x = 0.
 */
export function l2Normalize(x: Tensor, eps = 1e-6): Tensor {
  const norm = sqrt(add(sum(square(x), -1, true), eps * eps));
  return div(x, norm);
}
