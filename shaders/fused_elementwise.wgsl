// A generated elementwise kernel (src/kernels/fused_elementwise.ts): one invocation per output element
// computes one or more expressions of broadcast inputs and writes each to its own output. The lines
// `//@NAME` are replaced by generated code: the input and output bindings, each input's offset
// accumulation over the axes, the loads, and the expression body with its stores.
// Shapes travel in uniforms (the output's shape and, per input, strides with 0 on broadcast axes, up
// to rank 8 after axis merging); the merged rank is the pipeline constant RANK.
override WORKGROUP: u32 = 64;
override RANK: u32 = 1u;
//@CONSTANTS
struct Params {
  n: u32,
  shape: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, STRIDE_VECS>,
}
//@BINDINGS

// Input k's stride along merged axis d.
fn stride(k: u32, d: u32) -> u32 {
  return params.strides[2u * k + d / 4u][d % 4u];
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  // As in binary.wgsl: RANK - 1 divisions with constant uniform indices; the outermost coordinate is
  // what remains of the index.
//@OFFSETS_INIT
  var rest = i;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coord = rest % extent;
    rest = rest / extent;
//@OFFSETS_STEP
  }
//@OFFSETS_LAST
//@BODY
}
