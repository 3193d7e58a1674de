// VICReg (Bardes, Ponce and LeCun, 2022) over n paired embeddings, composed from existing ops: every
// term is a handful of reductions, fused elementwise chains and one d x d matmul, so no kernel of its own.
import { shapeString, type Tensor } from '../tensor';
import { fromArray } from '../ops/create';
import { add, sub } from '../ops/elementwise';
import { fused, fx } from '../ops/fused';
import { matmul } from '../ops/matmul';
import { mean, scaledSum, variance } from '../ops/reduce';

export interface VICRegOptions {
  /** Weight of the invariance (MSE) term; 25 in the paper. */
  invarianceWeight?: number;
  /** Weight of the variance hinge; 25 in the paper. */
  varianceWeight?: number;
  /** Weight of the covariance term; 1 in the paper. */
  covarianceWeight?: number;
  /** Target standard deviation of every dimension (the hinge), 1 in the paper. */
  targetStd?: number;
  /** Added to the variance under the square root, 1e-4 in the paper. */
  eps?: number;
}

export interface VICRegLoss {
  /** invarianceWeight * invariance + varianceWeight * variance + covarianceWeight * covariance, shape []. */
  loss: Tensor;
  /** mean((za - zb)^2) over n and d. */
  invariance: Tensor;
  /** v(za) + v(zb), v(z) = mean_j relu(targetStd - sqrt(var(z_j) + eps)). */
  variance: Tensor;
  /** c(za) + c(zb), c(z) = (sum of squared off-diagonal entries of cov(z)) / d. */
  covariance: Tensor;
}

const [a, b, c] = [fx.input(0), fx.input(1), fx.input(2)];
/** (a - b)^2 */
const SQUARED_DIFFERENCE = fx.square(fx.sub(a, b));
/** (a * b * c)^2: the scaled covariance, masked, squared. */
const SQUARED_PRODUCT = fx.square(fx.mul(fx.mul(a, b), c));

/** mean_j relu(target - sqrt(var_j + eps)) with the unbiased (n - 1) variance, as torch.var. */
function varianceHinge(z: Tensor, target: number, eps: number): Tensor {
  const hinge = fx.relu(fx.add(fx.mul(-1, fx.sqrt(fx.add(a, eps))), target));
  return mean(fused(hinge, [variance(z, 0, false, 1)], 'vicregHinge'));
}

/** Sum of the squared off-diagonal entries of the (n - 1)-normalised covariance, divided by d. */
function offDiagonalCovariance(z: Tensor, offDiagonal: Tensor): Tensor {
  const [n, d] = z.shape as [number, number];
  const centred = sub(z, mean(z, 0, true));
  const scale = fromArray(z.runtime, [1 / (n - 1)], []);
  // cov = centred^T centred / (n - 1). Masking rather than subtracting the squared diagonal: the
  // diagonal (the variances) dominates the sum, and subtracting it in f32 would cancel most of the
  // off-diagonal signal.
  const squared = fused(SQUARED_PRODUCT, [matmul(centred, centred, { transposeA: true }), scale, offDiagonal], 'vicregCovariance');
  return scaledSum(squared, undefined, false, 1 / d);
}

/** The VICReg loss of two embedding matrices za, zb of shape [n, d] whose rows are positive pairs. */
export function vicreg(za: Tensor, zb: Tensor, options: VICRegOptions = {}): VICRegLoss {
  const { invarianceWeight = 25, varianceWeight = 25, covarianceWeight = 1, targetStd = 1, eps = 1e-4 } = options;
  if (za.rank !== 2 || zb.rank !== 2 || za.shape[0] !== zb.shape[0] || za.shape[1] !== zb.shape[1]) {
    throw new RangeError(`vicreg: embeddings must both be [n, d], got ${shapeString(za.shape)} and ${shapeString(zb.shape)}`);
  }
  const [n, d] = za.shape as [number, number];
  if (n < 2) throw new RangeError(`vicreg: needs at least 2 samples for the (n - 1) variance, got ${shapeString(za.shape)}`);

  const mask = new Float32Array(d * d).fill(1);
  for (let j = 0; j < d; j++) mask[j * d + j] = 0;
  const offDiagonal = fromArray(za.runtime, mask, [d, d]);

  const invariance = mean(fused(SQUARED_DIFFERENCE, [za, zb], 'vicregInvariance'));
  const varianceTerm = add(varianceHinge(za, targetStd, eps), varianceHinge(zb, targetStd, eps));
  const covariance = add(offDiagonalCovariance(za, offDiagonal), offDiagonalCovariance(zb, offDiagonal));
  const weighted = fx.add(fx.add(fx.mul(a, invarianceWeight), fx.mul(b, varianceWeight)), fx.mul(c, covarianceWeight));
  const loss = fused(weighted, [invariance, varianceTerm, covariance], 'vicregLoss');
  return { loss, invariance, variance: varianceTerm, covariance };
}
