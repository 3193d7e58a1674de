// Register-blocked implicit-GEMM 3-D convolution with no workgroup memory and no barriers: the tile
// family for software adapters (SwiftShader runs a workgroup's invocations as SIMD lanes on one CPU
// thread, where a barrier is a costly context switch and workgroup memory is no faster than a cache hit).
//
// One invocation computes a register block of BV output voxels (consecutive along w) x BC output
// channels and walks K = taps x source channels itself. Sources are read as vec4 along channels when
// the source channel count is a multiple of 4 (VEC4), one channel at a time otherwise; each source value
// is then multiplied into vec4s of four destination channels, so a weight vec4 is used BV times while
// it is live and few values are live at once (software compilers spill what does not fit in registers).
//
// The same text serves two directions:
//   forward (default): dst = y, src = x, dst[o] += src[o*s - p + k] . w[co, k, ci]
//   TRANSPOSED (backward-data, i.e. transposed conv): dst = dx, src = dy,
//     dst[i] += src[(i + p - k) / s] . w[co, k, ci] where the division is exact.
//     Destination positions are grouped by residue class modulo the stride (pos = r + s*q per axis), so every
//     voxel of a block, and every lane of a SIMD group, takes the same taps.
//
// The register block is unrolled by the code generator (src/kernels/conv3d/codegen.ts): subzero, the
// JIT SwiftShader ships, neither unrolls loops nor keeps indexed arrays in registers, so the block's
// accumulators are named variables. Lines `//@NAME` below are replaced by that generated code or by the
// parts these kernels share (shaders/conv3d/shared/).
override WORKGROUP: u32 = 64;
//@CONSTS

struct Params {
  total: u32,          // invocations that do work
  q_blocks: u32,       // blocks of BV voxels along the w quotient axis
  dst_blocks: u32,     // blocks of BC destination channels
  classes: u32,        // residue classes: 1 forward, the product of the strides in TRANSPOSED mode
//@GATHER_GEOMETRY
}

// Four neighbouring destination channels of the re-laid weights (padded to dst_blocks * BC) are one vec4.
alias WeightElement = vec4<f32>;
//@GATHER_BINDINGS
//@CHANNELS_LAST

// Source coordinate reached from destination coordinate `o` through tap `k` along one axis, or -1.
// TRANSPOSED: the caller passes only taps of o's residue class (first_tap_of), so o + p - k divides by s.
fn source_coord(o: u32, k: u32, s: u32, p: i32, extent: u32) -> i32 {
#if TRANSPOSED
  let t = i32(o) + p - i32(k);
  if (t < 0) { return -1; }
  let i = t / i32(s);
#else
  let i = i32(o * s) - p + i32(k);
  if (i < 0) { return -1; }
#endif
  return select(-1, i, i < i32(extent));
}

#if TRANSPOSED
// The smallest tap k >= 0 with k = r + p (mod s): the first that reaches a source voxel from residue r.
fn first_tap_of(r: u32, s: u32, p: i32) -> u32 {
  let si = i32(s);
  return u32(((i32(r) + p) % si + si) % si);
}
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let sd = params.src_dims;
  let dd = params.dst_dims;
  let qd = params.q_dims;
  let k = params.kernel;
  let R = params.residues;

  // Unravel: channel block fastest, then the w block, h, d, batch and the residue class, so that
  // neighbouring lanes (one SIMD group on a software adapter) read the same source voxels and
  // neighbouring weight vec4s, and share residues (hence taps). Measured on SwiftShader: up to 1.7x
  // faster than the w block fastest, where every lane gathers from other voxels.
  var rest = index;
  let cb = rest % params.dst_blocks; rest = rest / params.dst_blocks;
  let qb = rest % params.q_blocks; rest = rest / params.q_blocks;
  let qh = rest % qd.y; rest = rest / qd.y;
  let qdd = rest % qd.x; rest = rest / qd.x;
  let n = rest % qd.w; rest = rest / qd.w;
  let rw = rest % R.z; rest = rest / R.z;
  let rh = rest % R.y; rest = rest / R.y;
  let rd = rest;
  let od = rd + R.x * qdd;
  let oh = rh + R.y * qh;
  if (od >= dd.x || oh >= dd.y) { return; }
  let q0 = qb * BV;
  let c0 = cb * BC;

#if TRANSPOSED
  // Only the taps k = r + p (mod s) reach a source voxel from residue class r: walk those alone.
  let first_tap = vec3<u32>(first_tap_of(rd, params.stride.x, params.pad.x), first_tap_of(rh, params.stride.y, params.pad.y),
                            first_tap_of(rw, params.stride.z, params.pad.z));
  let tap_step = params.stride.xyz;
#else
  let first_tap = vec3<u32>(0u);
  let tap_step = vec3<u32>(1u);
#endif
//@DECLARE
  for (var kd = first_tap.x; kd < k.x; kd += tap_step.x) {
    let id = source_coord(od, kd, params.stride.x, params.pad.x, sd.x);
    if (id < 0) { continue; }
    for (var kh = first_tap.y; kh < k.y; kh += tap_step.y) {
      let ih = source_coord(oh, kh, params.stride.y, params.pad.y, sd.y);
      if (ih < 0) { continue; }
      let row = voxel_row(n, u32(id), u32(ih), sd);
      for (var kw = first_tap.z; kw < k.z; kw += tap_step.z) {
#if TRANSPOSED
        // Position r + R*(q0 + v) reaches source w = q0 + v + (r + p - kw) / s, which divides (kw's residue).
        let shift = i32(rw) + params.pad.z - i32(kw);
        let w_first = i32(q0) + shift / i32(params.stride.z);
        let w_step = 1;
#else
        let w_first = i32(q0 * params.stride.z) - params.pad.z + i32(kw);
        let w_step = i32(params.stride.z);
#endif
        let tap = (kd * k.y + kh) * k.z + kw;
//@TAP
//@INNER
      }
    }
  }
//@STORE
}
