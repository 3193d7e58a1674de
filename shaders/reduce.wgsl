// Reduction over any set of axes, keeping them as size 1. One invocation per output element walks the
// reduced elements: the output coordinate gives a base offset, the reduced coordinate an offset on top.
override WORKGROUP: u32 = 64;
struct Params {
  n_out: u32,
  n_reduce: u32,
  rank: u32,
  scale: f32,
  out_shape: array<vec4<u32>, 2>,
  reduce_shape: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn offset_of(index: u32, shape: array<vec4<u32>, 2>) -> u32 {
  var rest = index;
  var offset = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let extent = at(shape, u32(d));
    offset += (rest % extent) * at(params.strides, u32(d));
    rest = rest / extent;
  }
  return offset;
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (o >= params.n_out) { return; }
  let base = offset_of(o, params.out_shape);
#if MAX
  var best = -3.4028234e38;
  for (var r = 0u; r < params.n_reduce; r++) { best = max(best, x[base + offset_of(r, params.reduce_shape)]); }
  out[o] = best;
#elif LOGSUMEXP
  var best = -3.4028234e38;
  for (var r = 0u; r < params.n_reduce; r++) { best = max(best, x[base + offset_of(r, params.reduce_shape)]); }
  var total = 0.0;
  for (var r = 0u; r < params.n_reduce; r++) { total += exp(x[base + offset_of(r, params.reduce_shape)] - best); }
  out[o] = best + log(total);
#else
  // Kahan-compensated sum: reductions over many terms stay accurate in f32.
  var total = 0.0;
  var carry = 0.0;
  for (var r = 0u; r < params.n_reduce; r++) {
    let term = x[base + offset_of(r, params.reduce_shape)] - carry;
    let next = total + term;
    carry = (next - total) - term;
    total = next;
  }
  out[o] = total * params.scale;
#endif
}
