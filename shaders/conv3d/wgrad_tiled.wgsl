// Shared-memory tiled backward-weight of the 3-D convolution: the tile family for GPUs.
//
// dw is the GEMM dw[co, col] = sum_v dy[v, co] * X[v, col] with col = (tap, ci), exactly dw's memory
// layout [Cout, taps * Cin], and X the implicit im2col matrix of x (never stored: each TK-deep slab is
// gathered from x into workgroup memory, zeros where a tap falls into the padding). v runs over the
// batch and output voxels; it is split into ranges (grid y), each writing partial sums part[split, co,
// col] that the launcher sums in a second pass, so the result needs no atomics and is deterministic.
// Tile sizes are `const`s written by the code generator (src/kernels/conv3d/codegen.ts) at the //@CONSTS
// line; the other `//@NAME` lines are the parts these kernels share (shaders/conv3d/shared/).
//@CONSTS

struct Params {
  m_tiles: u32,          // tiles over Cout
  n_tiles: u32,          // tiles over taps * Cin
  slices_per_split: u32, // (batch, output depth) slices per split
  splits: u32,
//@WGRAD_GEOMETRY
}
//@WGRAD_BINDINGS
//@CHANNELS_LAST

var<workgroup> a_tile: array<f32, TK * TM>; // [TK][TM]: dy
var<workgroup> b_tile: array<f32, TK * TN>; // [TK][TN]: im2col of x

const A_LOADS: u32 = (TM * TK / VEC + THREADS - 1u) / THREADS;
const B_LOADS: u32 = (TN * TK / VEC + THREADS - 1u) / THREADS;

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.z * nwg.x;
  if (tile >= params.m_tiles * params.n_tiles) { return; }
  let m_tile = tile % params.m_tiles;
  let n_tile = tile / params.m_tiles;
  let split = wid.y;
  let xd = params.x_dims;
  let yd = params.y_dims;
  let kn = params.kernel;
  let st = params.stride;
  let pd = params.pad;
  let ci = xd.w;
  let co = yd.w;
  let cols = kn.w * ci;
  let plane = yd.y * yd.z;
  let v_first = split * params.slices_per_split * plane;
  let v_end = min(v_first + params.slices_per_split * plane, st.w * yd.x * plane);
  let m0 = m_tile * TM;
  let n0 = n_tile * TN;

  // The (kd, kh, kw, ci) of the im2col columns this invocation stages; w = -1 past the last column.
  var bcols: array<vec4<i32>, B_LOADS>;
  for (var i = 0u; i < B_LOADS; i++) {
    let e = lid + THREADS * i;
    let nn = (e % (TN / VEC)) * VEC;
    let col = n0 + nn;
    let c = col % ci;
    let t = col / ci;
    let ok = e < TK * TN / VEC && col < cols;
    bcols[i] = vec4<i32>(i32(t / (kn.y * kn.z)), i32((t / kn.z) % kn.y), i32(t % kn.z), select(-1, i32(c), ok));
  }

  let tx = lid % THREADS_N;
  let ty = lid / THREADS_N;
  var acc: array<f32, RM * RN>;
  for (var i = 0u; i < RM * RN; i++) { acc[i] = 0.0; }

  for (var v0 = v_first; v0 < v_end; v0 += TK) {
    // A slab: dy[v, co], contiguous along co.
    for (var i = 0u; i < A_LOADS; i++) {
      let e = lid + THREADS * i;
      let mm = (e % (TM / VEC)) * VEC;
      let kk = e / (TM / VEC);
      let v = v0 + kk;
      var val = ZERO;
      if (kk < TK && v < v_end && m0 + mm < co) { val = dys[(v * co + m0 + mm) / VEC]; }
      if (kk < TK) {
#if VEC4
        a_tile[kk * TM + mm] = val.x;
        a_tile[kk * TM + mm + 1u] = val.y;
        a_tile[kk * TM + mm + 2u] = val.z;
        a_tile[kk * TM + mm + 3u] = val.w;
#else
        a_tile[kk * TM + mm] = val;
#endif
      }
    }
    // B slab: x at the source voxel of output voxel v through the column's tap.
    for (var i = 0u; i < B_LOADS; i++) {
      let e = lid + THREADS * i;
      let nn = (e % (TN / VEC)) * VEC;
      let kk = e / (TN / VEC);
      let v = v0 + kk;
      var val = ZERO;
      let b = bcols[i];
      if (b.w >= 0 && v < v_end) {
        var rest = v;
        let ow = rest % yd.z; rest = rest / yd.z;
        let oh = rest % yd.y; rest = rest / yd.y;
        let od = rest % yd.x;
        let n = rest / yd.x;
        let id = i32(od * st.x) - pd.x + b.x;
        let ih = i32(oh * st.y) - pd.y + b.y;
        let iw = i32(ow * st.z) - pd.z + b.z;
        if (id >= 0 && id < i32(xd.x) && ih >= 0 && ih < i32(xd.y) && iw >= 0 && iw < i32(xd.z)) {
          val = xs[((voxel_row(n, u32(id), u32(ih), xd) + u32(iw)) * ci + u32(b.w)) / VEC];
        }
      }
      if (kk < TK) {
#if VEC4
        b_tile[kk * TN + nn] = val.x;
        b_tile[kk * TN + nn + 1u] = val.y;
        b_tile[kk * TN + nn + 2u] = val.z;
        b_tile[kk * TN + nn + 3u] = val.w;
#else
        b_tile[kk * TN + nn] = val;
#endif
      }
    }
    workgroupBarrier();
//@MICRO_GEMM
    workgroupBarrier();
  }

  let base = split * co * cols;
  for (var i = 0u; i < RM; i++) {
    let row = m0 + ty + THREADS_M * i;
    if (row >= co) { continue; }
    for (var j = 0u; j < RN; j++) {
      let col = n0 + tx + THREADS_N * j;
      if (col < cols) { part[base + row * cols + col] = acc[i * RN + j]; }
    }
  }
}
