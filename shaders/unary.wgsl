// y = f(x) elementwise, one invocation per element. The launcher picks f with a define; alpha and beta
// are f's parameters where it has any (leaky slope, exponent, clamp bounds, scale and shift).
override WORKGROUP: u32 = 64;
struct Params { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// erf with |error| < 1.5e-7 (Abramowitz and Stegun 7.1.26); WGSL has no erf of its own.
fn erf_approx(v: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-v * v));
}

fn sigmoid(v: f32) -> f32 {
  // Split by sign so exp never overflows.
  if (v >= 0.0) { return 1.0 / (1.0 + exp(-v)); }
  let e = exp(v);
  return e / (1.0 + e);
}

fn op(v: f32) -> f32 {
  let a = params.alpha;
  let b = params.beta;
#if NEG
  return -v;
#elif EXP
  return exp(v);
#elif LOG
  return log(v);
#elif SQRT
  return sqrt(v);
#elif ABS
  return abs(v);
#elif AFFINE
  return a * v + b;
#elif POW
  return pow_scalar(v, a);
#elif CLAMP
  return clamp(v, a, b);
#elif RELU
  return max(v, 0.0);
#elif LEAKY_RELU
  return select(a * v, v, v > 0.0);
#elif SILU
  return v * sigmoid(v);
#elif GELU
  return 0.5 * v * (1.0 + erf_approx(v * 0.7071067811865476));
#elif SIGMOID
  return sigmoid(v);
#elif SOFTPLUS
  // log(1 + e^v), exact for large v as in PyTorch's threshold of 20.
  return select(log(1.0 + exp(v)), v, v > 20.0);
#elif TANH
  return tanh(v);
#elif RECIPROCAL
  return 1.0 / v;
#else
  return v;
#endif
}

// x^p for a scalar p; negative bases work for integer exponents, as in PyTorch.
fn pow_scalar(v: f32, p: f32) -> f32 {
  if (p == 0.0) { return 1.0; }
  if (p == 1.0) { return v; }
  if (p == 2.0) { return v * v; }
  let magnitude = pow(abs(v), p);
  if (v < 0.0 && fract(p) == 0.0 && (i32(p) & 1) == 1) { return -magnitude; }
  // NaN for a negative base and a fractional exponent (built from v so it is not a constant expression).
  if (v < 0.0 && fract(p) != 0.0) { return bitcast<f32>(0x7fc00000u | (bitcast<u32>(v) & 0u)); }
  return magnitude;
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  y[i] = op(x[i]);
}
