// Elementwise expressions that compile to one WGSL function body: a chain of elementwise ops (adds,
// products, activations, ...) over numbered inputs and constants, and its symbolic derivatives.
//
// A chain of n elementwise ops costs n dispatches and n - 1 intermediate tensors when run op by op;
// compiled, it is one dispatch reading each input once (src/kernels/fused-elementwise.ts launches it,
// src/graph/ops/fused.ts records it for autograd, and the GroupNorm kernels use it as an epilogue).
// Expressions are immutable trees; every node carries a canonical key, which names the generated
// shader, and shared subtrees are computed once in the generated code.

export type FusedUnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'leaky_relu' | 'silu' | 'sigmoid' | 'softplus'
  | 'tanh' | 'reciprocal' | 'square'
  // Steps, with derivative 0: sign(x), and [x > 0] as 1 or 0.
  | 'sign' | 'positive';
export type FusedBinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater_equal';

export type FusedExpr =
  | { readonly kind: 'input'; readonly index: number; readonly key: string }
  | { readonly kind: 'const'; readonly value: number; readonly key: string }
  | { readonly kind: 'unary'; readonly op: FusedUnaryOp; readonly x: FusedExpr; readonly alpha: number; readonly key: string }
  | { readonly kind: 'binary'; readonly op: FusedBinaryOp; readonly a: FusedExpr; readonly b: FusedExpr; readonly key: string }
  /** cond != 0 ? a : b */
  | { readonly kind: 'where'; readonly cond: FusedExpr; readonly a: FusedExpr; readonly b: FusedExpr; readonly key: string };

type Operand = FusedExpr | number;

function constant(value: number): FusedExpr {
  if (!Number.isFinite(value)) throw new RangeError(`fused expression: constant ${value} is not finite`);
  // Constants are written into the shader as f32 literals: round them here, so that what the key
  // says and what the kernel computes agree.
  const v = Math.fround(value);
  return { kind: 'const', value: v, key: `${v}` };
}

const lift = (e: Operand): FusedExpr => (typeof e === 'number' ? constant(e) : e);
const isConst = (e: FusedExpr, value?: number): boolean => e.kind === 'const' && (value === undefined || e.value === value);

function unary(op: FusedUnaryOp, x: Operand, alpha = 0): FusedExpr {
  const e = lift(x);
  if (op === 'neg' && e.kind === 'unary' && e.op === 'neg') return e.x;
  return { kind: 'unary', op, x: e, alpha, key: op === 'leaky_relu' ? `${op}[${alpha}](${e.key})` : `${op}(${e.key})` };
}

/**
 * Binary nodes fold only what is exact in f32: x + 0, x - 0, x * 1, x / 1. Products with a constant 0
 * fold to 0 only in derivatives (see `times`), where they mean "this input does not appear".
 */
function binary(op: FusedBinaryOp, a: Operand, b: Operand): FusedExpr {
  const ea = lift(a);
  const eb = lift(b);
  if ((op === 'add' || op === 'sub') && isConst(eb, 0)) return ea;
  if (op === 'add' && isConst(ea, 0)) return eb;
  if ((op === 'mul' || op === 'div') && isConst(eb, 1)) return ea;
  if (op === 'mul' && isConst(ea, 1)) return eb;
  return { kind: 'binary', op, a: ea, b: eb, key: `${op}(${ea.key},${eb.key})` };
}

/** Builders for fused expressions; numbers are constants. */
export const fx = {
  input: (index: number): FusedExpr => {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`fused expression: input index ${index}`);
    return { kind: 'input', index, key: `in${index}` };
  },
  constant,
  add: (a: Operand, b: Operand) => binary('add', a, b),
  sub: (a: Operand, b: Operand) => binary('sub', a, b),
  mul: (a: Operand, b: Operand) => binary('mul', a, b),
  div: (a: Operand, b: Operand) => binary('div', a, b),
  maximum: (a: Operand, b: Operand) => binary('maximum', a, b),
  minimum: (a: Operand, b: Operand) => binary('minimum', a, b),
  /** 1 where a >= b, else 0. */
  greaterEqual: (a: Operand, b: Operand) => binary('greater_equal', a, b),
  where: (cond: Operand, a: Operand, b: Operand): FusedExpr => {
    const [c, ea, eb] = [lift(cond), lift(a), lift(b)];
    if (ea.key === eb.key) return ea;
    return { kind: 'where', cond: c, a: ea, b: eb, key: `where(${c.key},${ea.key},${eb.key})` };
  },
  neg: (x: Operand) => unary('neg', x),
  exp: (x: Operand) => unary('exp', x),
  log: (x: Operand) => unary('log', x),
  sqrt: (x: Operand) => unary('sqrt', x),
  abs: (x: Operand) => unary('abs', x),
  relu: (x: Operand) => unary('relu', x),
  leakyRelu: (x: Operand, slope = 0.01) => unary('leaky_relu', x, Math.fround(slope)),
  silu: (x: Operand) => unary('silu', x),
  sigmoid: (x: Operand) => unary('sigmoid', x),
  /** log(1 + e^x), exactly x above 20 as PyTorch's. */
  softplus: (x: Operand) => unary('softplus', x),
  tanh: (x: Operand) => unary('tanh', x),
  reciprocal: (x: Operand) => unary('reciprocal', x),
  square: (x: Operand) => unary('square', x),
  sign: (x: Operand) => unary('sign', x),
  positive: (x: Operand) => unary('positive', x),
};

/** The number of inputs an expression refers to: one more than its largest input index. */
export function inputCount(expr: FusedExpr): number {
  let count = 0;
  visit(expr, (e) => {
    if (e.kind === 'input') count = Math.max(count, e.index + 1);
  });
  return count;
}

/** The input indices that occur in any of `exprs`, ascending. */
export function usedInputs(exprs: readonly FusedExpr[]): number[] {
  const used = new Set<number>();
  for (const expr of exprs) visit(expr, (e) => e.kind === 'input' && used.add(e.index));
  return [...used].sort((a, b) => a - b);
}

function children(e: FusedExpr): FusedExpr[] {
  switch (e.kind) {
    case 'unary': return [e.x];
    case 'binary': return [e.a, e.b];
    case 'where': return [e.cond, e.a, e.b];
    default: return [];
  }
}

function visit(expr: FusedExpr, f: (e: FusedExpr) => void): void {
  const seen = new Set<string>();
  const stack = [expr];
  while (stack.length) {
    const e = stack.pop()!;
    if (seen.has(e.key)) continue;
    seen.add(e.key);
    f(e);
    stack.push(...children(e));
  }
}

/** `outer` with each fx.input(i) replaced by `inner[i]` (inputs beyond `inner` are kept). */
export function compose(outer: FusedExpr, inner: readonly FusedExpr[]): FusedExpr {
  const memo = new Map<string, FusedExpr>();
  const f = (e: FusedExpr): FusedExpr => {
    const hit = memo.get(e.key);
    if (hit) return hit;
    let r: FusedExpr;
    switch (e.kind) {
      case 'input': r = inner[e.index] ?? e; break;
      case 'const': r = e; break;
      case 'unary': r = unary(e.op, f(e.x), e.alpha); break;
      case 'binary': r = binary(e.op, f(e.a), f(e.b)); break;
      case 'where': r = fx.where(f(e.cond), f(e.a), f(e.b)); break;
    }
    memo.set(e.key, r);
    return r;
  };
  return f(outer);
}

// ---- derivatives -----------------------------------------------------------------------------------

const ZERO = constant(0);

/** a * b, where a structural 0 on either side means "no contribution" and folds away. */
function times(a: FusedExpr, b: FusedExpr): FusedExpr {
  return isConst(a, 0) || isConst(b, 0) ? ZERO : fx.mul(a, b);
}

function plus(a: FusedExpr, b: FusedExpr): FusedExpr {
  return isConst(a, 0) ? b : fx.add(a, b);
}

/** f'(x) of a unary op, as an expression of x. */
function unaryDerivative(e: Extract<FusedExpr, { kind: 'unary' }>): FusedExpr {
  const x = e.x;
  switch (e.op) {
    case 'neg': return constant(-1);
    case 'exp': return e;
    case 'log': return fx.reciprocal(x);
    case 'sqrt': return fx.div(0.5, e);
    case 'abs': return fx.sign(x);
    case 'relu': return fx.positive(x);
    case 'leaky_relu': return fx.where(fx.positive(x), 1, e.alpha);
    case 'silu': {
      const s = fx.sigmoid(x);
      return fx.mul(s, fx.add(1, fx.mul(x, fx.sub(1, s))));
    }
    case 'sigmoid': return fx.mul(e, fx.sub(1, e));
    case 'softplus': return fx.sigmoid(x);
    case 'tanh': return fx.sub(1, fx.square(e));
    case 'reciprocal': return fx.neg(fx.square(e));
    case 'square': return fx.mul(2, x);
    case 'sign':
    case 'positive': return ZERO;
  }
}

/** d expr / d input(index), by the chain rule; constant 0 where the input does not occur. */
export function derivative(expr: FusedExpr, index: number): FusedExpr {
  const memo = new Map<string, FusedExpr>();
  const d = (e: FusedExpr): FusedExpr => {
    const hit = memo.get(e.key);
    if (hit) return hit;
    let r: FusedExpr;
    switch (e.kind) {
      case 'input': r = e.index === index ? constant(1) : ZERO; break;
      case 'const': r = ZERO; break;
      case 'unary': r = times(unaryDerivative(e), d(e.x)); break;
      case 'where': {
        const [da, db] = [d(e.a), d(e.b)];
        r = isConst(da, 0) && isConst(db, 0) ? ZERO : fx.where(e.cond, da, db);
        break;
      }
      case 'binary': {
        const [da, db] = [d(e.a), d(e.b)];
        switch (e.op) {
          case 'add': r = plus(da, db); break;
          case 'sub': r = isConst(db, 0) ? da : fx.sub(da, db); break;
          case 'mul': r = plus(times(da, e.b), times(e.a, db)); break;
          // (a / b)' = a' / b - b' * (a / b) / b
          case 'div': r = isConst(db, 0) ? (isConst(da, 0) ? ZERO : fx.div(da, e.b)) : fx.sub(isConst(da, 0) ? ZERO : fx.div(da, e.b), fx.div(times(db, e), e.b)); break;
          // Ties go to a, as the engine's maximum/minimum kernels pick a there.
          case 'maximum': r = isConst(da, 0) && isConst(db, 0) ? ZERO : fx.where(fx.greaterEqual(e.a, e.b), da, db); break;
          case 'minimum': r = isConst(da, 0) && isConst(db, 0) ? ZERO : fx.where(fx.greaterEqual(e.b, e.a), da, db); break;
          case 'greater_equal': r = ZERO; break;
        }
      }
    }
    memo.set(e.key, r);
    return r;
  };
  return d(expr);
}

// ---- WGSL ------------------------------------------------------------------------------------------

/** WGSL helpers the generated code calls; part of every fused kernel's source. */
export const FUSED_HELPERS = `
fn fused_sigmoid(v: f32) -> f32 {
  // Split by sign so exp never overflows.
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}
fn fused_softplus(v: f32) -> f32 {
  return select(log(1.0 + exp(v)), v, v > 20.0);
}
`;

function literal(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function unaryCode(op: FusedUnaryOp, x: string, alpha: number): string {
  switch (op) {
    case 'neg': return `-${x}`;
    case 'exp': case 'log': case 'sqrt': case 'abs': case 'tanh': case 'sign': return `${op}(${x})`;
    case 'relu': return `max(${x}, 0.0)`;
    case 'leaky_relu': return `select(${literal(alpha)} * ${x}, ${x}, ${x} > 0.0)`;
    case 'silu': return `${x} * fused_sigmoid(${x})`;
    case 'sigmoid': return `fused_sigmoid(${x})`;
    case 'softplus': return `fused_softplus(${x})`;
    case 'reciprocal': return `1.0 / ${x}`;
    case 'square': return `${x} * ${x}`;
    case 'positive': return `select(0.0, 1.0, ${x} > 0.0)`;
  }
}

function binaryCode(op: FusedBinaryOp, a: string, b: string): string {
  switch (op) {
    case 'add': return `${a} + ${b}`;
    case 'sub': return `${a} - ${b}`;
    case 'mul': return `${a} * ${b}`;
    case 'div': return `${a} / ${b}`;
    case 'maximum': return `max(${a}, ${b})`;
    case 'minimum': return `min(${a}, ${b})`;
    case 'greater_equal': return `select(0.0, 1.0, ${a} >= ${b})`;
  }
}

/**
 * WGSL statements computing `exprs`: one `let` per distinct subexpression (shared ones once), in an
 * order where each is defined before use. `inputName(i)` is the WGSL value of input i. Returns the
 * statements and the WGSL names of the results.
 */
export function expressionCode(exprs: readonly FusedExpr[], inputName: (index: number) => string, prefix = 't'): { statements: string[]; results: string[] } {
  const names = new Map<string, string>();
  const statements: string[] = [];
  const emit = (root: FusedExpr): string => {
    // Iterative post-order: deep chains must not overflow the JavaScript stack.
    const stack: [FusedExpr, boolean][] = [[root, false]];
    while (stack.length) {
      const [e, expanded] = stack.pop()!;
      if (names.has(e.key)) continue;
      if (e.kind === 'input') { names.set(e.key, inputName(e.index)); continue; }
      if (e.kind === 'const') { names.set(e.key, literal(e.value)); continue; }
      if (!expanded) {
        stack.push([e, true]);
        for (const c of children(e)) stack.push([c, false]);
        continue;
      }
      const n = (c: FusedExpr) => names.get(c.key)!;
      const code =
        e.kind === 'unary' ? unaryCode(e.op, n(e.x), e.alpha)
        : e.kind === 'binary' ? binaryCode(e.op, n(e.a), n(e.b))
        : `select(${n(e.b)}, ${n(e.a)}, ${n(e.cond)} != 0.0)`;
      const name = `${prefix}${statements.length}`;
      statements.push(`let ${name}: f32 = ${code};`);
      names.set(e.key, name);
    }
    return names.get(root.key)!;
  };
  const results = exprs.map(emit);
  return { statements, results };
}

/**
 * A WGSL function `fn NAME(v: f32) -> f32` computing an expression of one input (input 0 = v), for
 * kernels that apply a fused expression as an epilogue.
 */
export function unaryFunction(name: string, expr: FusedExpr): string {
  if (inputCount(expr) > 1) throw new RangeError(`fused epilogue ${name}: expression ${expr.key} has more than one input`);
  const { statements, results } = expressionCode([expr], () => 'v');
  return `fn ${name}(v: f32) -> f32 {\n${statements.map((s) => `  ${s}\n`).join('')}  return ${results[0]};\n}\n`;
}
