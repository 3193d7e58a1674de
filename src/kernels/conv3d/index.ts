// The 3-D convolution family: its geometry (the one Triple), the implicit-GEMM launchers with an
// explicit tile and the ones that take the tuner's tile, the code generator of their WGSL and the tuner.
// Everything outside this folder imports the family from here.
export * from './codegen';
export { convFlops, convOutputExtent, type Conv3dGeometry, type Triple } from './geometry';
export * from './implicit-gemm';
export * from './launchers';
export * from './tiles';
export * from './tuner';
