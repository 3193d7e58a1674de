// out = a (op) b with NumPy broadcasting, one invocation per output element. Shapes of rank up to 8
// travel in uniforms: the output's shape and, for each operand, strides with 0 on broadcast axes; the
// rank itself is the pipeline constant RANK.
// WHERE is the ternary select(b, a, cond != 0) with cond as a third operand.
// With VEC4 an invocation computes four consecutive output elements as one vec4: the launcher has
// counted the shape and strides in vec4s (src/kernels/axes.ts, inVec4s).
override WORKGROUP: u32 = 64;
override RANK: u32 = 1u;
struct Params {
  n: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
}
#if VEC4
alias Element = vec4<f32>;
#else
alias Element = f32;
#endif
@group(0) @binding(0) var<storage, read> a: array<Element>;
@group(0) @binding(1) var<storage, read> b: array<Element>;
#if WHERE
@group(0) @binding(2) var<storage, read> c: array<Element>;
@group(0) @binding(3) var<storage, read_write> out: array<Element>;
@group(0) @binding(4) var<uniform> params: Params;
#else
@group(0) @binding(2) var<storage, read_write> out: array<Element>;
@group(0) @binding(3) var<uniform> params: Params;
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  // The launcher has merged every axis it could (src/kernels/axes.ts), and RANK is a pipeline constant:
  // the loop unrolls into RANK - 1 divisions with constant uniform indices. The outermost axis's
  // coordinate is what remains of the index.
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  var ic = 0u;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coord = rest % extent;
    rest = rest / extent;
    ia += coord * params.a_strides[d / 4u][d % 4u];
    ib += coord * params.b_strides[d / 4u][d % 4u];
    ic += coord * params.c_strides[d / 4u][d % 4u];
  }
  ia += rest * params.a_strides[0].x;
  ib += rest * params.b_strides[0].x;
  ic += rest * params.c_strides[0].x;
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
  out[i] = select(Element(0.0), Element(1.0), va > vb);
#elif GREATER_EQUAL
  out[i] = select(Element(0.0), Element(1.0), va >= vb);
#elif LEFT
  out[i] = va; // a broadcast to the output shape (b is read above, which keeps its binding)
#elif WHERE
  out[i] = select(vb, va, c[ic] != Element(0.0));
#endif
}
