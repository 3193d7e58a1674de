// The invertible 1x1x1 convolution of Glow: one C x C matrix W mixing the channels of every position.
//
// W is LU-parameterised, W = P L (U + diag(sign * exp(logS))), with P a fixed permutation, L unit
// lower-triangular and U strictly upper-triangular, so log|det W| = sum(logS) exactly and in f32 on
// the GPU. The alternative, a determinant of W computed in float64 on the CPU, would need a readback
// (and a CPU gradient) in every training step, which the engine's one-submission-per-step design
// rules out. Initialised, as in Glow, from the PLU factors of a random rotation.
import type { Runtime } from '../../gpu/runtime';
import type { Tensor } from '../tensor';
import { add, exp, expandTo, mul, neg, sub } from '../ops/elementwise';
import { matmul } from '../ops/matmul';
import { sum } from '../ops/reduce';
import { reshape } from '../ops/shape';
import { keep } from '../scope';
import { fromArray } from '../ops/create';
import { Module } from '../nn/module';
import { checkInputs, positionShape, seededNormals, type FlowLayer, type FlowOutput } from './flow';
import { pluDecompose, randomOrthogonal } from './lu';

export interface InvertibleConv1x1Options {
  seed?: number;
}

export class InvertibleConv1x1 extends Module implements FlowLayer {
  /** [C, C]; only the strictly lower triangle is used. */
  readonly lower: Tensor;
  /** [C, C]; only the strictly upper triangle is used. */
  readonly upper: Tensor;
  /** [C]: log|diagonal of U|. */
  readonly logS: Tensor;
  /** [C, C], fixed: a state buffer (checkpointed), since it comes from the initial draw. */
  readonly permutation: Tensor;
  /** [C]: signs of U's diagonal, fixed; a state buffer like the permutation. */
  readonly sign: Tensor;
  // Derived constants, rebuilt from C alone: kept out of the checkpointed state.
  private readonly lowerMask: Tensor;
  private readonly upperMask: Tensor;
  private readonly identity: Tensor;

  constructor(
    runtime: Runtime,
    readonly channels: number,
    options: InvertibleConv1x1Options = {},
  ) {
    super();
    const c = channels;
    if (!Number.isInteger(c) || c < 1) throw new RangeError(`InvertibleConv1x1: channels must be a positive integer, got ${c}`);
    const { p, l, u } = pluDecompose(randomOrthogonal(seededNormals(options.seed ?? 0, c * c), c), c);
    const strictUpper = u.map((v, i) => (i % c > Math.floor(i / c) ? v : 0));
    const diagonal = Array.from({ length: c }, (_, i) => u[i * c + i]!);
    this.lower = this.registerParameter('lower', fromArray(runtime, l.map((v, i) => (i % c < Math.floor(i / c) ? v : 0)), [c, c]));
    this.upper = this.registerParameter('upper', fromArray(runtime, strictUpper, [c, c]));
    this.logS = this.registerParameter('logS', fromArray(runtime, diagonal.map((v) => Math.log(Math.abs(v))), [c]));
    this.permutation = this.registerBuffer('permutation', fromArray(runtime, p, [c, c]));
    this.sign = this.registerBuffer('sign', fromArray(runtime, diagonal.map(Math.sign), [c]));
    const triangle = (pick: (row: number, col: number) => boolean) =>
      keep(fromArray(runtime, Float32Array.from({ length: c * c }, (_, i) => (pick(Math.floor(i / c), i % c) ? 1 : 0)), [c, c]));
    this.lowerMask = triangle((r, k) => k < r);
    this.upperMask = triangle((r, k) => k > r);
    this.identity = triangle((r, k) => k === r);
  }

  /** L (unit lower-triangular), the strictly upper part S of U, and U's diagonal s = sign * exp(logS). */
  private factors(): { l: Tensor; strictUpper: Tensor; diagonal: Tensor } {
    return {
      l: add(mul(this.lower, this.lowerMask), this.identity),
      strictUpper: mul(this.upper, this.upperMask),
      diagonal: mul(this.sign, exp(this.logS)),
    };
  }

  private compose(f: { l: Tensor; strictUpper: Tensor; diagonal: Tensor }): Tensor {
    const u = add(f.strictUpper, mul(this.identity, f.diagonal));
    return matmul(this.permutation, matmul(f.l, u));
  }

  /** W = P L (U + diag(s)), [C, C]; y = W x at every position. */
  weight(): Tensor {
    return this.compose(this.factors());
  }

  /**
   * W^-1 = (U + diag(s))^-1 L^-1 P^T, each triangular inverse exact after ceil(log2 C) squarings (see
   * unitTriangularInverse), then one Newton step X <- X + X (I - W X) to remove most f32 rounding.
   */
  inverseWeight(): Tensor {
    const f = this.factors();
    const c = this.channels;
    // U + D = (I + M) D with M = S D^-1 (columns scaled), strictly upper: (U + D)^-1 = D^-1 (I + M)^-1.
    const inverseDiagonal = mul(this.sign, exp(neg(this.logS)));
    const uInverse = mul(reshape(inverseDiagonal, [c, 1]), unitTriangularInverse(mul(f.strictUpper, inverseDiagonal), this.identity));
    const lInverse = unitTriangularInverse(sub(f.l, this.identity), this.identity);
    const x = matmul(matmul(uInverse, lInverse), this.permutation, { transposeB: true });
    const residual = sub(this.identity, matmul(this.compose(f), x));
    return add(x, matmul(x, residual));
  }

  /** logdet per position: sum(logS), the same everywhere. */
  forward(x: Tensor, condition?: Tensor): FlowOutput {
    checkInputs('InvertibleConv1x1', x, this.channels, condition, 0);
    const y = this.apply(x, this.weight());
    const lead = positionShape(x);
    return { y, logdet: expandTo(reshape(sum(this.logS), lead.map(() => 1)), lead) };
  }

  inverse(y: Tensor, condition?: Tensor): Tensor {
    checkInputs('InvertibleConv1x1.inverse', y, this.channels, condition, 0);
    return this.apply(y, this.inverseWeight());
  }

  /** w applied over the channels of every position: [..., C] -> [..., C]. */
  private apply(x: Tensor, w: Tensor): Tensor {
    return reshape(matmul(reshape(x, [-1, this.channels]), w, { transposeB: true }), x.shape);
  }

  override dispose(): void {
    super.dispose();
    for (const t of [this.lowerMask, this.upperMask, this.identity]) t.dispose();
  }
}

/**
 * (I + N)^-1 for a strictly triangular (so nilpotent, N^C = 0) C x C matrix N: with A = -N,
 * (I + A)(I + A^2)(I + A^4)... = I + A + A^2 + ... + A^(2^k - 1), exact once 2^k >= C.
 */
export function unitTriangularInverse(n: Tensor, identity: Tensor): Tensor {
  const c = n.shape[0]!;
  let power = neg(n);
  let result = add(identity, power);
  for (let reach = 2; reach < c; reach *= 2) {
    power = matmul(power, power);
    result = matmul(result, add(identity, power));
  }
  return result;
}
