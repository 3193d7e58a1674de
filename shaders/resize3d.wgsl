// Resizing channels-last volumes [N, D, H, W, C].
//   (default)      trilinear, PyTorch's align_corners=False: output o samples source (o + 0.5) * in/out - 0.5,
//                  clamped at 0, between floor and the next voxel (the last voxel repeats at the far edge);
//   TRILINEAR_GRAD its gradient as a gather (no atomics): each input voxel sums the output gradients of
//                  the few outputs whose interpolation touches it, with the same weights;
//   NEAREST        nearest upsampling by integer factors: output o copies input o / f;
//   NEAREST_GRAD   its gradient: each input voxel sums its f_d * f_h * f_w copies.
// With VEC4 (channel counts that are multiples of 4) an invocation moves four neighbouring channels as one
// vec4 and the dims' channel extent counts vec4s: the index arithmetic, not the memory traffic, is what
// these kernels spend their time on in a software adapter, so a quarter of the invocations is about a
// quarter of the time.
override WORKGROUP: u32 = 64;
struct Params {
  total: u32,            // elements written: outputs (forward) or inputs (gradients)
  x_dims: vec4<u32>,     // D, H, W, C of the (forward) input (C in vec4s with VEC4)
  y_dims: vec4<u32>,     // D, H, W, C of the (forward) output
  scale: vec4<f32>,      // in / out per axis (trilinear)
  factor: vec4<u32>,     // integer factors per axis (nearest)
}
#if VEC4
alias Element = vec4<f32>;
#else
alias Element = f32;
#endif
@group(0) @binding(0) var<storage, read> src: array<Element>;
@group(0) @binding(1) var<storage, read_write> dst: array<Element>;
@group(0) @binding(2) var<uniform> params: Params;

// unravel() and offset() come from shared/volume_index.wgsl, put before this text.

// One axis of the trilinear sampling of output position o: (lower voxel, upper voxel, upper weight).
struct Taps { lo: u32, hi: u32, t: f32 }
fn taps(o: u32, scale: f32, extent_in: u32) -> Taps {
  let source = max((f32(o) + 0.5) * scale - 0.5, 0.0);
  let lo = min(u32(source), extent_in - 1u);
  let hi = select(lo, lo + 1u, lo + 1u < extent_in);
  return Taps(lo, hi, source - f32(lo));
}

// The weight with which output o reads input i along one axis (0 when it does not read it).
fn weight_of(o: u32, i: u32, scale: f32, extent_in: u32) -> f32 {
  let s = taps(o, scale, extent_in);
  return select(0.0, 1.0 - s.t, s.lo == i) + select(0.0, s.t, s.hi == i);
}

// The outputs [first, last] that may read input i along one axis: those whose source lies in
// [i - 1, i + 1), widened by one on each side so that f32 rounding cannot drop one (extra ones weigh 0).
fn readers_of(i: u32, scale: f32, extent_out: u32) -> vec2<i32> {
  let first = i32(floor((f32(i) - 0.5) / scale - 0.5)) - 1;
  let last = i32(ceil((f32(i) + 1.5) / scale - 0.5)) + 1;
  return vec2<i32>(max(first, 0), min(last, i32(extent_out) - 1));
}

// Outputs along one axis that read input i with a non-zero weight. The launcher allows upsampling by at
// most 8x per axis, which bounds their number (about 2.5 * factor + 1, edges included) below MAX_READERS.
const MAX_READERS: u32 = 24u;
struct Readers { o: array<u32, MAX_READERS>, w: array<f32, MAX_READERS>, n: u32 }
fn readers(i: u32, scale: f32, extent_in: u32, extent_out: u32) -> Readers {
  var r: Readers;
  r.n = 0u;
  let range = readers_of(i, scale, extent_out);
  for (var o = range.x; o <= range.y; o++) {
    let w = weight_of(u32(o), i, scale, extent_in);
    if (w != 0.0 && r.n < MAX_READERS) {
      r.o[r.n] = u32(o);
      r.w[r.n] = w;
      r.n++;
    }
  }
  return r;
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let xd = params.x_dims;
  let yd = params.y_dims;
  let sc = params.scale;
#if TRILINEAR_GRAD
  let p = unravel(index, xd);
  // The outputs reading this input along each axis, with their weights, listed once; the triple loop
  // then touches only the non-zero products (the candidate ranges are widened for rounding safety, so
  // about half their entries weigh 0).
  let rd = readers(p[1], sc.x, xd.x, yd.x);
  let rh = readers(p[2], sc.y, xd.y, yd.y);
  let rw = readers(p[3], sc.z, xd.z, yd.z);
  var acc = Element(0.0);
  for (var a = 0u; a < rd.n; a++) {
    for (var b = 0u; b < rh.n; b++) {
      let wdh = rd.w[a] * rh.w[b];
      let row = offset(p[0], rd.o[a], rh.o[b], 0u, p[4], yd);
      for (var e = 0u; e < rw.n; e++) {
        acc += wdh * rw.w[e] * src[row + rw.o[e] * yd.w];
      }
    }
  }
  dst[index] = acc;
#elif NEAREST
  let p = unravel(index, yd);
  let f = params.factor;
  dst[index] = src[offset(p[0], p[1] / f.x, p[2] / f.y, p[3] / f.z, p[4], xd)];
#elif NEAREST_GRAD
  let p = unravel(index, xd);
  let f = params.factor;
  var acc = Element(0.0);
  for (var a = 0u; a < f.x; a++) {
    for (var b = 0u; b < f.y; b++) {
      for (var e = 0u; e < f.z; e++) {
        acc += src[offset(p[0], p[1] * f.x + a, p[2] * f.y + b, p[3] * f.z + e, p[4], yd)];
      }
    }
  }
  dst[index] = acc;
#else
  let p = unravel(index, yd);
  let d = taps(p[1], sc.x, xd.x);
  let h = taps(p[2], sc.y, xd.y);
  let w = taps(p[3], sc.z, xd.z);
  let n = p[0];
  let c = p[4];
  // Interpolate along W, then H, then D.
  let a00 = mix(src[offset(n, d.lo, h.lo, w.lo, c, xd)], src[offset(n, d.lo, h.lo, w.hi, c, xd)], w.t);
  let a01 = mix(src[offset(n, d.lo, h.hi, w.lo, c, xd)], src[offset(n, d.lo, h.hi, w.hi, c, xd)], w.t);
  let a10 = mix(src[offset(n, d.hi, h.lo, w.lo, c, xd)], src[offset(n, d.hi, h.lo, w.hi, c, xd)], w.t);
  let a11 = mix(src[offset(n, d.hi, h.hi, w.lo, c, xd)], src[offset(n, d.hi, h.hi, w.hi, c, xd)], w.t);
  dst[index] = mix(mix(a00, a01, h.t), mix(a10, a11, h.t), d.t);
#endif
}
