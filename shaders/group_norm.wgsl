// Group normalisation of x [N, S, C] (S = all spatial positions, channels-last), C split into G groups of
// Cg = C / G channels; statistics per (sample, group) over S * Cg elements, in f32, two-pass.
//   STATS        one workgroup per (n, g): stats[2 * ng] = mean, stats[2 * ng + 1] = 1 / sqrt(var + eps)
//   (default)    one invocation per element: y = (x - mean) * rstd * gamma[c] + beta[c]
//   GRAD_STATS   one workgroup per (n, g): recomputes mean and rstd, then with x_hat = (x - mean) * rstd and
//                dx_hat = dy * gamma[c]: stats[4 * ng ..] = mean, rstd, mean(dx_hat), mean(dx_hat * x_hat)
//   GRAD_INPUT   one invocation per element: dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
//   GRAD_AFFINE  one workgroup per channel c: dgamma[c] = sum dy * x_hat, dbeta[c] = sum dy over N and S
// With VEC4 (C a multiple of 4) the two per-element kernels take four neighbouring channels of one
// position per invocation, read and written as vec4s: a quarter of the invocations and index arithmetic.
// The backward pass recomputes the statistics rather than keeping the forward's, so it does not depend on
// the lifetime of a forward-pass temporary.
// ACTIVATION fuses an elementwise function after the affine: the forward writes activation(y), and the
// backward kernels read the output gradient as dy * activation_grad(y) with y recomputed from x, so
// "dy" above is then the gradient at the affine's output. Both functions are generated from one fused
// expression and prepended by the launcher (src/kernels/group_norm.ts); the pre-activation gradient
// kernels need beta, bound after their other buffers.
override WORKGROUP: u32 = 64;
// Invocations per reduction workgroup; 64 keeps SwiftShader compiling these kernels quickly.
const REDUCE_WORKGROUP: u32 = 64u;
struct Params {
  total: u32,       // N * S * C
  batch: u32,       // N
  spatial: u32,     // S
  channels: u32,    // C
  groups: u32,      // G
  group_channels: u32, // Cg
  eps: f32,
}
#if VEC4
alias Element = vec4<f32>;
#else
alias Element = f32;
#endif
#if STATS
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
#elif GRAD_STATS
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
#if ACTIVATION
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
#else
@group(0) @binding(4) var<uniform> params: Params;
#endif
#elif GRAD_INPUT
@group(0) @binding(0) var<storage, read> x: array<Element>;
@group(0) @binding(1) var<storage, read> dy: array<Element>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<Element>;
#if ACTIVATION
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;
#else
@group(0) @binding(5) var<uniform> params: Params;
#endif
#elif GRAD_AFFINE
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<f32>;
#if ACTIVATION
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> beta: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;
#else
@group(0) @binding(5) var<uniform> params: Params;
#endif
#else
@group(0) @binding(0) var<storage, read> x: array<Element>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<Element>;
@group(0) @binding(5) var<uniform> params: Params;
#endif

var<workgroup> partial: array<vec2<f32>, REDUCE_WORKGROUP>;

// Sums a pair of values over the workgroup (tree reduction); every invocation gets the total.
// Must be called from uniform control flow.
fn workgroup_sum(value: vec2<f32>, lid: u32) -> vec2<f32> {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = REDUCE_WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // before anyone overwrites partial[] in a following reduction
  return total;
}

// The gradient at the affine's output y = x_hat * gamma[c] + beta[c], from the kernel's dy (GRAD: set
// for the three gradient kernels).
#if GRAD
fn affine_grad(dy_value: f32, c: u32, x_hat: f32) -> f32 {
#if ACTIVATION
  return dy_value * activation_grad(x_hat * gamma[c] + beta[c]);
#else
  return dy_value;
#endif
}
#endif

// (GROUP_STATS: set for the two kernels that reduce over a group, STATS and GRAD_STATS.)
#if GROUP_STATS
// The index of channel g * Cg of group (n, g) at spatial position p: the group's Cg channels follow it.
// The reductions walk positions (lanes take every REDUCE_WORKGROUP-th) and each position's Cg channels
// in an inner loop, which needs no division per element (a software adapter's cost in these kernels).
fn group_row(n: u32, g: u32, p: u32) -> u32 {
  return (n * params.spatial + p) * params.channels + g * params.group_channels;
}

// The mean of group (n, g), summing x - x[first] so that a group far from zero (CT intensities, or
// activations with a large offset) does not lose its spread to f32 rounding of large partial sums.
fn group_mean(n: u32, g: u32, lid: u32) -> f32 {
  let cg = params.group_channels;
  let pivot = x[group_row(n, g, 0u)];
  var s = 0.0;
  for (var p = lid; p < params.spatial; p += REDUCE_WORKGROUP) {
    let row = group_row(n, g, p);
    for (var k = 0u; k < cg; k++) { s += x[row + k] - pivot; }
  }
  return pivot + workgroup_sum(vec2<f32>(s, 0.0), lid).x / f32(params.spatial * cg);
}

// The variance of group (n, g) about its mean.
fn group_variance(n: u32, g: u32, mean: f32, lid: u32) -> f32 {
  let cg = params.group_channels;
  var q = 0.0;
  for (var p = lid; p < params.spatial; p += REDUCE_WORKGROUP) {
    let row = group_row(n, g, p);
    for (var k = 0u; k < cg; k++) {
      let d = x[row + k] - mean;
      q += d * d;
    }
  }
  return workgroup_sum(vec2<f32>(q, 0.0), lid).x / f32(params.spatial * cg);
}
#endif

#if STATS
@compute @workgroup_size(REDUCE_WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let ng = flat_workgroup(wid, nwg);
  if (ng >= params.batch * params.groups) { return; } // uniform: the whole workgroup leaves
  let n = ng / params.groups;
  let g = ng % params.groups;
  let mean = group_mean(n, g, lid);
  let variance = group_variance(n, g, mean, lid);
  if (lid == 0u) {
    stats[2u * ng] = mean;
    stats[2u * ng + 1u] = inverseSqrt(variance + params.eps);
  }
}
#elif GRAD_STATS
@compute @workgroup_size(REDUCE_WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let ng = flat_workgroup(wid, nwg);
  if (ng >= params.batch * params.groups) { return; }
  let n = ng / params.groups;
  let g = ng % params.groups;
  let cg = params.group_channels;
  let mean = group_mean(n, g, lid);
  let rstd = inverseSqrt(group_variance(n, g, mean, lid) + params.eps);
  var sums = vec2<f32>(0.0);
  for (var p = lid; p < params.spatial; p += REDUCE_WORKGROUP) {
    let row = group_row(n, g, p);
    for (var k = 0u; k < cg; k++) {
      let i = row + k;
      let c = g * cg + k;
      let x_hat = (x[i] - mean) * rstd;
      let dx_hat = affine_grad(dy[i], c, x_hat) * gamma[c];
      sums += vec2<f32>(dx_hat, dx_hat * x_hat);
    }
  }
  let means = workgroup_sum(sums, lid) / f32(params.spatial * cg);
  if (lid == 0u) {
    stats[4u * ng] = mean;
    stats[4u * ng + 1u] = rstd;
    stats[4u * ng + 2u] = means.x;
    stats[4u * ng + 3u] = means.y;
  }
}
#elif GRAD_INPUT
// dx of one element of channel c of sample n, from its x and dy.
fn grad_input(n: u32, c: u32, x_value: f32, dy_value: f32) -> f32 {
  let ng = n * params.groups + c / params.group_channels;
  let mean = stats[4u * ng];
  let rstd = stats[4u * ng + 1u];
  let x_hat = (x_value - mean) * rstd;
  return rstd * (affine_grad(dy_value, c, x_hat) * gamma[c] - stats[4u * ng + 2u] - x_hat * stats[4u * ng + 3u]);
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
#if VEC4
  if (i >= params.total / 4u) { return; }
  let c = (4u * i) % params.channels;
  let n = (4u * i) / (params.spatial * params.channels);
  let xv = x[i];
  let dyv = dy[i];
  dx[i] = vec4<f32>(grad_input(n, c, xv.x, dyv.x), grad_input(n, c + 1u, xv.y, dyv.y),
                    grad_input(n, c + 2u, xv.z, dyv.z), grad_input(n, c + 3u, xv.w, dyv.w));
#else
  if (i >= params.total) { return; }
  dx[i] = grad_input(i / (params.spatial * params.channels), i % params.channels, x[i], dy[i]);
#endif
}
#elif GRAD_AFFINE
@compute @workgroup_size(REDUCE_WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = flat_workgroup(wid, nwg);
  if (c >= params.channels) { return; }
  let g = c / params.group_channels;
  var sums = vec2<f32>(0.0);
  for (var n = 0u; n < params.batch; n++) {
    let ng = n * params.groups + g;
    let mean = stats[4u * ng];
    let rstd = stats[4u * ng + 1u];
    for (var p = lid; p < params.spatial; p += REDUCE_WORKGROUP) {
      let i = (n * params.spatial + p) * params.channels + c;
      let x_hat = (x[i] - mean) * rstd;
      let dy_affine = affine_grad(dy[i], c, x_hat);
      sums += vec2<f32>(dy_affine * x_hat, dy_affine);
    }
  }
  let total = workgroup_sum(sums, lid);
  if (lid == 0u) {
    dgamma[c] = total.x;
    dbeta[c] = total.y;
  }
}
#else
// y of one element of channel c of sample n, from its x.
fn normalized(n: u32, c: u32, x_value: f32) -> f32 {
  let ng = n * params.groups + c / params.group_channels;
  let affine = (x_value - stats[2u * ng]) * stats[2u * ng + 1u] * gamma[c] + beta[c];
#if ACTIVATION
  return activation(affine);
#else
  return affine;
#endif
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
#if VEC4
  if (i >= params.total / 4u) { return; }
  let c = (4u * i) % params.channels;
  let n = (4u * i) / (params.spatial * params.channels);
  let xv = x[i];
  y[i] = vec4<f32>(normalized(n, c, xv.x), normalized(n, c + 1u, xv.y), normalized(n, c + 2u, xv.z), normalized(n, c + 3u, xv.w));
#else
  if (i >= params.total) { return; }
  y[i] = normalized(i / (params.spatial * params.channels), i % params.channels, x[i]);
#endif
}
#endif
