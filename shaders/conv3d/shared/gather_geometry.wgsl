// The geometry fields of the forward and backward-data kernels' Params (blocked.wgsl, tiled.wgsl),
// spliced in after each kernel's four leading counts; packGeometry in src/kernels/conv3d/implicit_gemm.ts
// writes them in this order.
  src_dims: vec4<u32>, // D, H, W, C of the tensor read
  dst_dims: vec4<u32>, // D, H, W, C of the tensor written
  q_dims: vec4<u32>,   // quotient extents ceil(dst / R) along D, H, W; batch in .w
  kernel: vec4<u32>,   // kD, kH, kW, taps
  stride: vec4<u32>,
  pad: vec4<i32>,
  residues: vec4<u32>, // R per axis: 1 forward, the stride in TRANSPOSED mode
