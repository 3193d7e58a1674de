// Re-lays convolution weights [Cout, taps, Cin] out as [Cin, taps, Cout], so that the backward-data
// kernels read the weights of neighbouring output channels as one vec4, exactly as the forward kernels
// read neighbouring input channels. The weights are small beside the activations; this costs little.
override WORKGROUP: u32 = 64;

struct Params {
  total: u32,  // weight elements
  cout: u32,
  taps: u32,
  cin: u32,
}
@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> wt: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.total) { return; }
  // i indexes the output [ci, tap, co]; read the matching [co, tap, ci].
  let co = i % params.cout;
  let rest = i / params.cout;
  let tap = rest % params.taps;
  let ci = rest / params.taps;
  wt[i] = w[(co * params.taps + tap) * params.cin + ci];
}
