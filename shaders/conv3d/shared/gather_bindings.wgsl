// The bindings of the forward and backward-data kernels (blocked.wgsl, tiled.wgsl). The kernel declares
// WeightElement, the element it reads the re-laid weights as.
#if VEC4
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read> src: array<f32>;
#endif
// Weights re-laid out as [tap, source channel, destination channel padded] (weight_layout.wgsl).
@group(0) @binding(1) var<storage, read> wr: array<WeightElement>;
#if BIAS
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
#else
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
#endif
