// The bindings of the backward-weight kernels (wgrad_blocked.wgsl, wgrad_tiled.wgsl): x and dy, read as
// vec4s when both channel counts are multiples of 4, and the partial sums written.
#if VEC4
@group(0) @binding(0) var<storage, read> xs: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> dys: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dys: array<f32>;
#endif
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
