// dst[view] = src[view]: copies every element of a strided view of `src` (an offset and one stride per
// axis) into a strided view of `dst` of the same shape, one invocation per element. With a contiguous
// destination it makes permuted or sliced copies; with a strided destination it writes into a region
// of a larger tensor (concat, pad). Values move as raw 32-bit words, so any 32-bit dtype copies exactly.
// With VEC4 the element is four consecutive words (the launcher has divided the innermost extent, the
// other strides and the offsets by 4): a quarter of the invocations and of their index arithmetic.
override WORKGROUP: u32 = 64;
override RANK: u32 = 1u;
struct Params {
  n: u32,
  src_offset: u32,
  dst_offset: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
}
#if VEC4
alias Element = vec4<u32>;
#else
alias Element = u32;
#endif
@group(0) @binding(0) var<storage, read> src: array<Element>;
@group(0) @binding(1) var<storage, read_write> dst: array<Element>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  // As in binary.wgsl: merged axes (src/kernels/axes.ts), RANK a pipeline constant, the loop unrolled.
  var rest = i;
  var src_at = params.src_offset;
  var dst_at = params.dst_offset;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coord = rest % extent;
    rest = rest / extent;
    src_at += coord * params.src_strides[d / 4u][d % 4u];
    dst_at += coord * params.dst_strides[d / 4u][d % 4u];
  }
  src_at += rest * params.src_strides[0].x;
  dst_at += rest * params.dst_strides[0].x;
  dst[dst_at] = src[src_at];
}
