// dx = dy * f'(x) elementwise, for the f of unary.wgsl chosen by the same define.
override WORKGROUP: u32 = 64;
struct Params { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn sigmoid(v: f32) -> f32 {
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}

fn derivative(v: f32) -> f32 {
  let a = params.alpha;
  let b = params.beta;
#if NEG
  return -1.0;
#elif EXP
  return exp(v);
#elif LOG
  return 1.0 / v;
#elif SQRT
  return 0.5 / sqrt(v);
#elif ABS
  return sign(v);
#elif AFFINE
  return a;
#elif POW
  if (a == 0.0) { return 0.0; }
  if (a == 1.0) { return 1.0; }
  if (a == 2.0) { return 2.0 * v; }
  // p * x^(p-1), with the sign rule of pow_scalar for integer exponents.
  let q = a - 1.0;
  var m = pow(abs(v), q);
  if (v < 0.0 && fract(q) == 0.0 && (i32(q) & 1) == 1) { m = -m; }
  return a * m;
#elif CLAMP
  return select(0.0, 1.0, v >= a && v <= b);
#elif RELU
  return select(0.0, 1.0, v > 0.0);
#elif LEAKY_RELU
  return select(a, 1.0, v > 0.0);
#elif SILU
  let s = sigmoid(v);
  return s * (1.0 + v * (1.0 - s));
#elif GELU
  // d/dv [v * Phi(v)] = Phi(v) + v * phi(v)
  let t = 1.0 / (1.0 + 0.3275911 * abs(v * 0.7071067811865476));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let erf = sign(v) * (1.0 - poly * exp(-0.5 * v * v));
  return 0.5 * (1.0 + erf) + v * 0.3989422804014327 * exp(-0.5 * v * v);
#elif SIGMOID
  let s = sigmoid(v);
  return s * (1.0 - s);
#elif SOFTPLUS
  return sigmoid(v);
#elif TANH
  let t = tanh(v);
  return 1.0 - t * t;
#elif RECIPROCAL
  return -1.0 / (v * v);
#else
  return 1.0;
#endif
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  dx[i] = dy[i] * derivative(x[i]);
}
