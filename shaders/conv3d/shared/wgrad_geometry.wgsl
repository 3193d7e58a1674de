// The geometry fields of the backward-weight kernels' Params (wgrad_blocked.wgsl, wgrad_tiled.wgsl),
// spliced in after each kernel's four leading counts; packWgradGeometry in
// src/kernels/conv3d/implicit_gemm.ts writes them in this order.
  x_dims: vec4<u32>,     // D, H, W, Cin of x
  y_dims: vec4<u32>,     // D, H, W, Cout of dy
  kernel: vec4<u32>,     // kD, kH, kW, taps
  stride: vec4<u32>,     // sd, sh, sw, batch
  pad: vec4<i32>,
