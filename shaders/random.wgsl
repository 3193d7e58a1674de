// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011). Invocation b hashes the counter (base.x + b, base.y, base.z, base.w) under the
// 64-bit key (the seed) into four 32-bit words and writes output elements 4b .. 4b+3. No state is
// kept between dispatches, so the numbers depend only on (seed, element index): the same seed gives
// the same numbers on every device, in any dispatch order.
//
// Only integer arithmetic is needed for the bits, uniforms and masks, so those are bit-exact
// everywhere; normals also go through log and sqrt and are exact up to the device's log and sqrt.
override WORKGROUP: u32 = 64;
struct Params {
  n: u32,
  key0: u32,
  key1: u32,
  // UNIFORM: low and high - low; NORMAL: mean and std; BERNOULLI: a is the threshold on 24 bits.
  a: f32,
  b: f32,
  threshold: u32,
  counter: vec4<u32>,
}
#if BITS
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
#else
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
#endif
@group(0) @binding(1) var<uniform> params: Params;

const PHILOX_M0 = 0xD2511F53u;
const PHILOX_M1 = 0xCD9E8D57u;
const PHILOX_W0 = 0x9E3779B9u;
const PHILOX_W1 = 0xBB67AE85u;

// The high and low words of the 64-bit product a * b (WGSL has no 64-bit integers).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) { k = k + vec2<u32>(PHILOX_W0, PHILOX_W1); }
    let p0 = mulhilo(PHILOX_M0, c.x);
    let p1 = mulhilo(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

// The top 24 bits as a float in [0, 1): exact in f32, so identical on every device.
fn unit_open_high(bits: u32) -> f32 {
  return f32(bits >> 8u) * (1.0 / 16777216.0);
}

// log(u) of u = ((bits >> 8) + 1) / 2^24 in (0, 1]. Near 1 the builtin log loses its relative accuracy
// (its error bound is absolute there), so 1 - u, exact in f32, goes through log1p's series instead.
fn log_unit(bits: u32) -> f32 {
  let w = f32(0xffffffu - (bits >> 8u)) * (1.0 / 16777216.0); // 1 - u, exactly
  if (w < 0.015625) {
    return -w * (1.0 + w * (0.5 + w * (0.33333333 + w * (0.25 + w * 0.2))));
  }
  return log(1.0 - w);
}

// (cos, sin) of 2 pi (bits >> 8) / 2^24. Device sin/cos may be accurate to only 2^-11 over a full turn,
// so the quadrant comes from the top two bits (exactly) and short polynomials cover the rest,
// a quarter turn centred on pi/4.
fn cos_sin_turn(bits: u32) -> vec2<f32> {
  let quadrant = bits >> 30u;
  let x = (f32((bits >> 8u) & 0x3fffffu) * (1.0 / 4194304.0) - 0.5) * 1.5707963267948966; // in [-pi/4, pi/4)
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0)))));
  let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 + x2 * (-1.0 / 3628800.0)))));
  // The angle is quadrant * pi/2 + pi/4 + x.
  let cq = (c - s) * 0.70710678118654752;
  let sq = (c + s) * 0.70710678118654752;
  switch quadrant {
    case 0u: { return vec2<f32>(cq, sq); }
    case 1u: { return vec2<f32>(-sq, cq); }
    case 2u: { return vec2<f32>(-cq, -sq); }
    default: { return vec2<f32>(sq, -cq); }
  }
}

fn put(i: u32, bits: u32, value: f32) {
  if (i >= params.n) { return; }
#if BITS
  out[i] = bits;
#else
  out[i] = value;
#endif
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let block = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  let first = block * 4u;
  if (first >= params.n) { return; }
  let counter = vec4<u32>(params.counter.x + block, params.counter.y, params.counter.z, params.counter.w);
  let r = philox4x32_10(counter, vec2<u32>(params.key0, params.key1));
  var values = vec4<f32>(0.0);
#if UNIFORM
  values = params.a + params.b * vec4<f32>(unit_open_high(r.x), unit_open_high(r.y), unit_open_high(r.z), unit_open_high(r.w));
#elif NORMAL
  // Box-Muller: words (x, y) give two independent normals, (z, w) two more.
  let radius0 = sqrt(-2.0 * log_unit(r.x));
  let radius1 = sqrt(-2.0 * log_unit(r.z));
  let turn0 = cos_sin_turn(r.y);
  let turn1 = cos_sin_turn(r.w);
  let z = vec4<f32>(radius0 * turn0, radius1 * turn1);
  values = params.a + params.b * z;
#elif BERNOULLI
  // 1 with probability threshold / 2^24: an integer comparison, so the mask is exact everywhere.
  values = select(vec4<f32>(0.0), vec4<f32>(1.0), (r >> vec4<u32>(8u)) < vec4<u32>(params.threshold));
#endif
  put(first, r.x, values.x);
  put(first + 1u, r.y, values.y);
  put(first + 2u, r.z, values.z);
  put(first + 3u, r.w, values.w);
}
