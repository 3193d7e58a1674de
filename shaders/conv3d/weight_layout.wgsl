// Re-lays convolution weights [Cout, taps, Cin] out as wr[tap, source channel, destination channel],
// the destination channels padded with zeros to `dst_pad` (a multiple of the kernels' channel block):
// the fast kernels then read the weights of neighbouring destination channels as one vec4, and a block
// that runs past the last channel reads zeros, never the next row. Forward: source = Cin, destination
// = Cout; TRANSPOSED (backward-data): source = Cout, destination = Cin. The weights are small beside
// the activations, so this costs little.
override WORKGROUP: u32 = 64;

struct Params {
  total: u32,   // elements of wr: taps * source channels * dst_pad
  cout: u32,
  taps: u32,
  cin: u32,
  dst_pad: u32,
}
@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> wr: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.total) { return; }
  let d = i % params.dst_pad;
  let rest = i / params.dst_pad;
#if TRANSPOSED
  let sources = params.cout;
  let dsts = params.cin;
#else
  let sources = params.cin;
  let dsts = params.cout;
#endif
  let s = rest % sources;
  let tap = rest / sources;
#if TRANSPOSED
  let co = s;
  let ci = d;
#else
  let co = d;
  let ci = s;
#endif
  var v = 0.0;
  if (d < dsts) { v = w[(co * params.taps + tap) * params.cin + ci]; }
  wr[i] = v;
}
