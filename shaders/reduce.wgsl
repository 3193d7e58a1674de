// Reduction over any set of axes, keeping them as size 1. The launcher merges neighbouring axes of the
// same kind (src/kernels/axes.ts), so RANK (a pipeline constant: the loops unroll) is small. Invocation
// `index` reduces the chunk `index % n_chunks` of output element `index / n_chunks`: a large reduction
// into few outputs is split over many invocations, and the launcher reduces the partials in a second
// pass (sums and maxima of partials, logsumexp of partial logsumexps, are the whole's).
override WORKGROUP: u32 = 64;
override RANK: u32 = 1u;
struct Params {
  n_out: u32,
  n_reduce: u32,
  n_chunks: u32,
  chunk: u32,
  scale: f32,
  // When the reduced elements are one strided run (a single reduced axis), their spacing; else 0.
  reduce_stride: u32,
  out_shape: array<vec4<u32>, 2>,     // kept axes' extents, 1 on reduced axes
  reduce_shape: array<vec4<u32>, 2>,  // reduced axes' extents, 1 on kept axes
  strides: array<vec4<u32>, 2>,       // the input's strides
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Offset in x of the `index`-th element of the kept axes (out_shape) or of the reduced ones
// (reduce_shape). The uniform arrays are read in place: passing one by value would copy it on every call.
fn offset_along(index: u32, reduced: bool) -> u32 {
  var rest = index;
  var at = 0u;
  for (var d = RANK; d > 0u; d--) {
    let q = (d - 1u) / 4u;
    let k = (d - 1u) % 4u;
    let extent = select(params.out_shape[q][k], params.reduce_shape[q][k], reduced);
    at += (rest % extent) * params.strides[q][k];
    rest = rest / extent;
  }
  return at;
}

fn reduced_offset(index: u32) -> u32 {
  if (params.reduce_stride != 0u) { return index * params.reduce_stride; }
  return offset_along(index, true);
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.n_out * params.n_chunks) { return; }
  let base = offset_along(index / params.n_chunks, false);
  let first = (index % params.n_chunks) * params.chunk;
  let end = min(first + params.chunk, params.n_reduce);
#if MAX
  var best = -3.4028234e38;
  for (var r = first; r < end; r++) { best = max(best, x[base + reduced_offset(r)]); }
  out[index] = best;
#elif LOGSUMEXP
  var best = -3.4028234e38;
  for (var r = first; r < end; r++) { best = max(best, x[base + reduced_offset(r)]); }
  var total = 0.0;
  for (var r = first; r < end; r++) { total += exp(x[base + reduced_offset(r)] - best); }
  out[index] = best + log(total);
#else
  // Cascade sum: terms add up in blocks of 8, blocks in groups of 8, groups into the total, so each
  // partial sum adds few terms of its own size and the rounding error stays near that of a pairwise
  // sum. The accuracy comes from the order of the additions alone: a compensated (Kahan) sum is not
  // portable, because WGSL lets a compiler reassociate its correction away (NVIDIA's driver does).
  var total = 0.0;
  var group = 0.0;
  var block = 0.0;
  for (var r = first; r < end; r++) {
    block += x[base + reduced_offset(r)];
    let done = r + 1u - first;
    if ((done & 7u) == 0u) {
      group += block;
      block = 0.0;
      if ((done & 63u) == 0u) {
        total += group;
        group = 0.0;
      }
    }
  }
  out[index] = (total + (group + block)) * params.scale;
#endif
}
