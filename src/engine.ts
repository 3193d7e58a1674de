// The embeddable engine: everything in src/gpu (less the Node host), src/kernels and src/graph.
// dist/engine.js bundles this file with its shaders and has no imports; dist/engine.d.ts declares it.
//
// The runtime and the graph (tensors, ops, autograd, nn, optimisers, losses, flows) are exported by
// name. The kernel launchers sit in one `kernels` namespace: several share a name with the graph op
// built on them (matmul, gatherRows, scatterAddRows, Activation), and the op is what most callers want.
export * from './gpu/adapter';
export * from './gpu/browser';
export * from './gpu/errors';
export * from './gpu/grid';
export * from './gpu/open-runtime';
export * from './gpu/pool';
export * from './gpu/profiler';
export * from './gpu/runtime';
export * from './gpu/shader';
export * from './gpu/timing';
export * from './gpu/uniforms';
export * from './gpu/usage';
export type { GpuWait } from './gpu/wait';
export * from './graph/index';
export * as kernels from './kernels/index';
