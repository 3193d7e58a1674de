// Shared-memory tiled implicit-GEMM 3-D convolution: the tile family for GPUs.
//
// The convolution is the GEMM dst[m, n] = sum_k A[m, k] * B[k, n] with m = a destination voxel, n = a
// destination channel and k = (tap, source channel); A (the implicit im2col matrix) is never stored:
// each TK-deep slab of it is gathered straight from the source activations into workgroup memory, with
// zeros where a tap falls into the padding. Each workgroup computes a TM x TN tile of dst; each
// invocation an RM x RN register block of it, rows ty + (TM/RM)*i, columns tx + (TN/RN)*j, so that
// neighbouring invocations read neighbouring words of the slabs.
//
// Directions as in blocked.wgsl: forward, or TRANSPOSED (backward-data: src = dy,
// dst = dx). In TRANSPOSED mode the destination voxels are grouped by residue
// cls modulo the stride (grid y carries the cls), and k runs only over the taps that reach that cls,
// so no work is spent on taps that cannot contribute.
// Tile sizes are `const`s written by the code generator (src/kernels/conv3d/codegen.ts) at the //@CONSTS
// line; the other `//@NAME` lines are the parts these kernels share (shaders/conv3d/shared/).
//@CONSTS

struct Params {
  per_class: u32,      // destination voxels in one residue cls (all of them when forward)
  m_tiles: u32,
  n_tiles: u32,
  classes: u32,        // residue classes: 1 forward, the product of the strides in TRANSPOSED mode
//@GATHER_GEOMETRY
  dst_pad: u32,        // row length of wr (destination channels, padded)
}

alias WeightElement = f32;
//@GATHER_BINDINGS
//@CHANNELS_LAST

var<workgroup> a_tile: array<f32, TK * TM>; // [TK][TM]
var<workgroup> b_tile: array<f32, TK * TN>; // [TK][TN]

// Rows of A this invocation stages (as vec4 groups of 4 k's when VEC4): their voxel coordinates are
// decoded once, before the K loop.
#if VEC4
const A_LOADS: u32 = (TM * TK / 4u + THREADS - 1u) / THREADS;
#else
const A_LOADS: u32 = (TM * TK + THREADS - 1u) / THREADS;
#endif
const B_LOADS: u32 = (TN * TK + THREADS - 1u) / THREADS;

// First tap and how many taps reach residue cls r along one axis (all taps when forward).
fn axis_taps(r: u32, s: u32, p: i32, k: u32) -> vec2<u32> {
#if TRANSPOSED
  // Taps with (r + p - kk) % s == 0.
  let first = u32(((i32(r) + p) % i32(s) + i32(s)) % i32(s));
  let count = select(0u, (k - first + s - 1u) / s, first < k);
  return vec2<u32>(first, count);
#else
  return vec2<u32>(0u, k);
#endif
}

// Source coordinate reached from destination coordinate `o` through tap `kk` along one axis (the tap
// is one that reaches o's residue cls), or -1 when it falls into the padding.
fn source_coord(o: i32, kk: u32, s: u32, p: i32, extent: u32) -> i32 {
#if TRANSPOSED
  let i = (o + p - i32(kk)) / i32(s);
#else
  let i = o * i32(s) - p + i32(kk);
#endif
  return select(-1, i, i >= 0 && i < i32(extent));
}

// The destination voxel (d, h, w, batch) of the mm-th voxel of residue class r, whose voxels are
// r + R * (quotient), quotients ordered w fastest, then h, d and batch (qd: quotient extents, batch in .w).
fn class_voxel(mm: u32, r: vec3<u32>, R: vec4<u32>, qd: vec4<u32>) -> vec4<u32> {
  var rest = mm;
  let qw = rest % qd.z; rest = rest / qd.z;
  let qh = rest % qd.y; rest = rest / qd.y;
  let qq = rest % qd.x;
  let n = rest / qd.x;
  return vec4<u32>(r.x + R.x * qq, r.y + R.y * qh, r.z + R.z * qw, n);
}

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let m_tile = wid.x + wid.z * nwg.x;
  if (m_tile >= params.m_tiles) { return; }
  let n_tile = wid.y % params.n_tiles;
  let cls = wid.y / params.n_tiles;
  let R = params.residues;
  let rw = cls % R.z;
  let rh = (cls / R.z) % R.y;
  let rd = cls / (R.z * R.y);
  let sd = params.src_dims;
  let dd = params.dst_dims;
  let qd = params.q_dims;
  let kn = params.kernel;
  let st = params.stride;
  let pd = params.pad;
#if TRANSPOSED
  let step = st.xyz;
#else
  let step = vec3<u32>(1u);
#endif
  let td = axis_taps(rd, st.x, pd.x, kn.x);
  let th = axis_taps(rh, st.y, pd.y, kn.y);
  let tw = axis_taps(rw, st.z, pd.z, kn.z);
  let C = sd.w;
  let K = td.y * th.y * tw.y * C;
  let m0 = m_tile * TM;
  let n0 = n_tile * TN;

  // Destination coordinates (d, h, w, batch; batch -1 past the end) of the rows this invocation stages.
  var rows: array<vec4<i32>, A_LOADS>;
  for (var i = 0u; i < A_LOADS; i++) {
    let e = lid + THREADS * i;
#if VEC4
    let m = e / (TK / 4u);
#else
    let m = e / TK;
#endif
    let mm = m0 + m;
    let o = class_voxel(mm, vec3<u32>(rd, rh, rw), R, qd);
    let od = o.x;
    let oh = o.y;
    let ow = o.z;
    let n = o.w;
    let ok = m < TM && mm < params.per_class && od < dd.x && oh < dd.y && ow < dd.z;
    rows[i] = vec4<i32>(i32(od), i32(oh), i32(ow), select(-1, i32(n), ok));
  }

  let tx = lid % THREADS_N;
  let ty = lid / THREADS_N;
  var acc: array<f32, RM * RN>;
  for (var i = 0u; i < RM * RN; i++) { acc[i] = 0.0; }

  for (var k0 = 0u; k0 < K; k0 += TK) {
    // A slab: [TK][TM], gathered from the source with zeros in the padding.
    for (var i = 0u; i < A_LOADS; i++) {
      let e = lid + THREADS * i;
#if VEC4
      let kk = (e % (TK / 4u)) * 4u;
#else
      let kk = e % TK;
#endif
      let m = e / (TK / VEC);
      let k = k0 + kk;
      var v = ZERO;
      if (rows[i].w >= 0 && k < K) {
        let c = k % C;
        let t = k / C;
        let kw = tw.x + (t % tw.y) * step.z;
        let kh = th.x + ((t / tw.y) % th.y) * step.y;
        let kd = td.x + (t / (tw.y * th.y)) * step.x;
        let id = source_coord(rows[i].x, kd, st.x, pd.x, sd.x);
        let ih = source_coord(rows[i].y, kh, st.y, pd.y, sd.y);
        let iw = source_coord(rows[i].z, kw, st.z, pd.z, sd.z);
        if (id >= 0 && ih >= 0 && iw >= 0) {
          let at = (voxel_row(u32(rows[i].w), u32(id), u32(ih), sd) + u32(iw)) * C + c;
          v = src[at / VEC];
        }
      }
      if (m < TM) {
#if VEC4
        a_tile[kk * TM + m] = v.x;
        a_tile[(kk + 1u) * TM + m] = v.y;
        a_tile[(kk + 2u) * TM + m] = v.z;
        a_tile[(kk + 3u) * TM + m] = v.w;
#else
        a_tile[kk * TM + m] = v;
#endif
      }
    }
    // B slab: [TK][TN] of the weights, contiguous along the destination channel.
    for (var i = 0u; i < B_LOADS; i++) {
      let e = lid + THREADS * i;
      let nn = e % TN;
      let kk = e / TN;
      let k = k0 + kk;
      let col = n0 + nn;
      var v = 0.0;
      if (kk < TK && k < K && col < dd.w) {
        let c = k % C;
        let t = k / C;
        let kw = tw.x + (t % tw.y) * step.z;
        let kh = th.x + ((t / tw.y) % th.y) * step.y;
        let kd = td.x + (t / (tw.y * th.y)) * step.x;
        v = wr[(((kd * kn.y + kh) * kn.z + kw) * C + c) * params.dst_pad + col];
      }
      if (kk < TK) { b_tile[kk * TN + nn] = v; }
    }
    workgroupBarrier();
//@MICRO_GEMM
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let mm = m0 + ty + THREADS_M * i;
    if (mm >= params.per_class) { continue; }
    let o = class_voxel(mm, vec3<u32>(rd, rh, rw), R, qd);
    let od = o.x;
    let oh = o.y;
    let ow = o.z;
    let n = o.w;
    if (od >= dd.x || oh >= dd.y || ow >= dd.z) { continue; }
    let base = (voxel_row(n, od, oh, dd) + ow) * dd.w;
    for (var j = 0u; j < RN; j++) {
      let col = n0 + tx + THREADS_N * j;
      if (col >= dd.w) { continue; }
      var v = acc[i * RN + j];
#if BIAS
      v += bias[col];
#endif
#if RELU
      v = max(v, 0.0);
#endif
      dst[base + col] = v;
    }
  }
}
