// Every kernel launcher, for the engine bundle's `kernels` namespace. Launchers take a Runtime and
// GPUBuffers and record no autograd; src/graph wraps them as ops.
export * from './adamw';
export * from './axes';
export * from './ceilings';
export * from './conv3d';
export * from './copy';
export * from './elementwise';
export * from './fill';
export { fusedElementwise, type FusedOperand } from './fused-elementwise';
// The expression builders (fx) are exported once, with the fused op, from src/graph.
export type { FusedBinaryOp, FusedExpr, FusedUnaryOp } from './fused-expression';
export * from './gather';
export * from './grad-norm';
export * from './group-norm';
export * from './matmul';
// The register-block choice and kernel text stay internal (bench/ and tests import them directly).
export { NEAREST_ROW_MAX_COLS, nearestRows } from './nearest-row';
export * from './pool3d';
export * from './random';
export * from './reduce';
export * from './resize3d';
