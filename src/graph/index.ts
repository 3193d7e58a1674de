// The autograd engine's public surface.
export * from './tensor';
export * from './scope';
export * from './tape';
export * from './broadcast';
export * from './ops/create';
export * from './ops/shape';
export * from './ops/elementwise';
export * from './ops/reduce';
export * from './ops/matmul';
export * from './ops/conv';
export * from './ops/layout';
export * from './ops/random';
export * from './losses/vicreg';
export * from './losses/l2_normalize';
export * from './losses/infonce';
export * from './losses/gaussian_nll';
