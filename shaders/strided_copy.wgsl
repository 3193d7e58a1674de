// dst[view] = src[view]: copies every element of a strided view of `src` (an offset and one stride per
// axis) into a strided view of `dst` of the same shape, one invocation per element. With a contiguous
// destination it makes permuted or sliced copies; with a strided destination it writes into a region
// of a larger tensor (concat, pad). Values move as raw 32-bit words, so any 32-bit dtype copies exactly.
override WORKGROUP: u32 = 64;
struct Params {
  n: u32,
  rank: u32,
  src_offset: u32,
  dst_offset: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  var rest = i;
  var src_at = params.src_offset;
  var dst_at = params.dst_offset;
  // Whole vec4s of the uniform arrays are read into registers and indexed there: a helper taking the
  // array by value copies it on every call, which a software adapter does not optimise away.
  for (var q = 1i; q >= 0; q--) {
    let extents = params.shape[q];
    let src_strides = params.src_strides[q];
    let dst_strides = params.dst_strides[q];
    for (var k = 3i; k >= 0; k--) {
      if (u32(q * 4 + k) >= params.rank) { continue; }
      let extent = extents[k];
      let coord = rest % extent;
      rest = rest / extent;
      src_at += coord * src_strides[k];
      dst_at += coord * dst_strides[k];
    }
  }
  dst[dst_at] = src[src_at];
}
