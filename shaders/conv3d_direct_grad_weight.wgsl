// Gradient of the direct 3-D convolution with respect to its weights: one invocation per weight element
// dw[co, kd, kh, kw, ci] sums x[n, od*s - p + kd, ..., ci] * dy[n, od, oh, ow, co] over the batch and
// every output position (taps that land in the zero padding contribute nothing).
// Params as in conv3d_direct.wgsl; `total` counts weight elements here.
override WORKGROUP: u32 = 64;
struct Params {
  total: u32,
  batch: u32,
  x_dims: vec4<u32>,
  y_dims: vec4<u32>,
  kernel: vec4<u32>,
  stride: vec4<u32>,
  pad: vec4<i32>,
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// The range [first, last) of output positions whose tap `k` lands inside the input along one axis:
// 0 <= o*s - p + k < extent_in.
fn valid_outputs(k: u32, s: u32, p: i32, extent_in: u32, extent_out: u32) -> vec2<i32> {
  let offset = i32(k) - p;                 // input position of output 0
  let si = i32(s);
  // smallest o with o*s + offset >= 0
  let first = select(0, (-offset + si - 1) / si, offset < 0);
  // smallest o with o*s + offset >= extent_in
  let past = i32(extent_in) - offset;
  let last = select(0, (past + si - 1) / si, past > 0);
  return vec2<i32>(first, min(last, i32(extent_out)));
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let xd = params.x_dims;
  let yd = params.y_dims;
  let k = params.kernel;
  let cin = xd.w;
  let cout = yd.w;
  let ci = index % cin;
  var rest = index / cin;
  let kw = rest % k.z; rest = rest / k.z;
  let kh = rest % k.y; rest = rest / k.y;
  let kd = rest % k.x;
  let co = rest / k.x;
  let s = params.stride;
  let p = params.pad;
  let rd = valid_outputs(kd, s.x, p.x, xd.x, yd.x);
  let rh = valid_outputs(kh, s.y, p.y, xd.y, yd.y);
  let rw = valid_outputs(kw, s.z, p.z, xd.z, yd.z);

  // Kahan-compensated: the sum runs over batch x output positions, easily 10^5 terms.
  var total = 0.0;
  var carry = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    for (var od = rd.x; od < rd.y; od++) {
      let id = u32(od * i32(s.x) - p.x + i32(kd));
      for (var oh = rh.x; oh < rh.y; oh++) {
        let ih = u32(oh * i32(s.y) - p.y + i32(kh));
        for (var ow = rw.x; ow < rw.y; ow++) {
          let iw = u32(ow * i32(s.z) - p.z + i32(kw));
          let xv = x[(((n * xd.x + id) * xd.y + ih) * xd.z + iw) * cin + ci];
          let gv = dy[(((n * yd.x + u32(od)) * yd.y + u32(oh)) * yd.z + u32(ow)) * cout + co];
          let term = xv * gv - carry;
          let next = total + term;
          carry = (next - total) - term;
          total = next;
        }
      }
    }
  }
  dw[index] = total;
}
