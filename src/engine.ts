// The embeddable engine: everything in src/gpu (less the Node host), src/kernels and src/graph.
// dist/engine.js bundles this file with its shaders and has no imports.
export * from './gpu/adapter';
export * from './gpu/browser';
export * from './gpu/errors';
export * from './gpu/grid';
export * from './gpu/pool';
export * from './gpu/runtime';
export * from './gpu/shader';
export * from './gpu/timing';
export * from './gpu/uniforms';
export * from './kernels/ceilings';
