// A float64 evaluator of fused elementwise expressions (src/kernels/fused-expression.ts), the reference
// the generated kernels are checked against.
import type { FusedExpr } from '../../src/kernels/fused-expression';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** expr at one element, `inputs[i]` being the value of fx.input(i) there. */
export function evaluateFused(expr: FusedExpr, inputs: readonly number[]): number {
  const f = (e: FusedExpr): number => {
    switch (e.kind) {
      case 'input': return inputs[e.index]!;
      case 'const': return e.value;
      case 'where': return f(e.cond) !== 0 ? f(e.a) : f(e.b);
      case 'unary': {
        const x = f(e.x);
        switch (e.op) {
          case 'neg': return -x;
          case 'exp': return Math.exp(x);
          case 'log': return Math.log(x);
          case 'sqrt': return Math.sqrt(x);
          case 'abs': return Math.abs(x);
          case 'relu': return Math.max(x, 0);
          case 'leaky_relu': return x > 0 ? x : e.alpha * x;
          case 'silu': return x * sigmoid(x);
          case 'sigmoid': return sigmoid(x);
          case 'softplus': return x > 20 ? x : Math.log1p(Math.exp(x));
          case 'tanh': return Math.tanh(x);
          case 'reciprocal': return 1 / x;
          case 'square': return x * x;
          case 'sign': return Math.sign(x);
          case 'positive': return x > 0 ? 1 : 0;
        }
      }
      case 'binary': {
        const [a, b] = [f(e.a), f(e.b)];
        switch (e.op) {
          case 'add': return a + b;
          case 'sub': return a - b;
          case 'mul': return a * b;
          case 'div': return a / b;
          case 'maximum': return Math.max(a, b);
          case 'minimum': return Math.min(a, b);
          case 'greater_equal': return a >= b ? 1 : 0;
        }
      }
    }
  };
  return f(expr);
}

/** Row-major strides of `shape` read as if broadcast to `target` (0 on broadcast axes). */
export function broadcastStridesOf(shape: readonly number[], target: readonly number[]): number[] {
  const offset = target.length - shape.length;
  const own: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    own[i] = s;
    s *= shape[i]!;
  }
  return target.map((_, i) => (shape[i - offset] === undefined || shape[i - offset] === 1 ? 0 : own[i - offset]!));
}

/** expr over inputs of the given shapes, broadcast to `shape`, in float64. */
export function evaluateFusedOver(expr: FusedExpr, shape: readonly number[], inputs: { data: ArrayLike<number>; shape: readonly number[] }[]): Float64Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const strides = inputs.map((x) => broadcastStridesOf(x.shape, shape));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const values = inputs.map((x, k) => {
      let rest = i;
      let at = 0;
      for (let d = shape.length - 1; d >= 0; d--) {
        at += (rest % shape[d]!) * strides[k]![d]!;
        rest = Math.floor(rest / shape[d]!);
      }
      return x.data[at]!;
    });
    out[i] = evaluateFused(expr, values);
  }
  return out;
}
