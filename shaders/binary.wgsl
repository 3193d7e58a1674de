// out = a (op) b with NumPy broadcasting, one invocation per output element. Shapes of rank up to 8
// travel in uniforms: the output's shape and, for each operand, strides with 0 on broadcast axes.
// WHERE is the ternary select(b, a, cond != 0) with cond as a third operand.
override WORKGROUP: u32 = 64;
struct Params {
  n: u32,
  rank: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
#if WHERE
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
#else
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  var ic = 0u;
  // Whole vec4s of the uniform arrays are read into registers and indexed there: a helper taking the
  // array by value copies it on every call, which a software adapter does not optimise away.
  for (var q = 1i; q >= 0; q--) {
    let extents = params.shape[q];
    let sa = params.a_strides[q];
    let sb = params.b_strides[q];
    let sc = params.c_strides[q];
    for (var k = 3i; k >= 0; k--) {
      if (u32(q * 4 + k) >= params.rank) { continue; }
      let extent = extents[k];
      let coord = rest % extent;
      rest = rest / extent;
      ia += coord * sa[k];
      ib += coord * sb[k];
      ic += coord * sc[k];
    }
  }
  let va = a[ia];
  let vb = b[ib];
#if ADD
  out[i] = va + vb;
#elif SUB
  out[i] = va - vb;
#elif MUL
  out[i] = va * vb;
#elif DIV
  out[i] = va / vb;
#elif MAXIMUM
  out[i] = max(va, vb);
#elif MINIMUM
  out[i] = min(va, vb);
#elif GREATER
  out[i] = select(0.0, 1.0, va > vb);
#elif GREATER_EQUAL
  out[i] = select(0.0, 1.0, va >= vb);
#elif LEFT
  out[i] = va; // a broadcast to the output shape (b is read above, which keeps its binding)
#elif WHERE
  out[i] = select(vb, va, c[ic] != 0.0);
#endif
}
