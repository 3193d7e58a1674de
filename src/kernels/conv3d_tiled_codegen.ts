// Fills in the tile sizes of the shared-memory tiled convolution kernels (the GPU tile family). The
// loops over the register block stay loops: GPU compilers unroll loops of constant trip count.
import tiledSkeleton from '../../shaders/conv3d_igemm_tiled.wgsl';
import wgradSkeleton from '../../shaders/conv3d_igemm_wgrad_tiled.wgsl';
import { kernelSource } from '../gpu/shader';
import type { Activation } from './conv3d_fast_codegen';

/** A TM x TN workgroup tile over TK-deep slabs, RM x RN per invocation. */
export interface TiledConfig {
  tm: number;
  tn: number;
  tk: number;
  rm: number;
  rn: number;
}

export function checkTiled(t: TiledConfig): void {
  const threads = (t.tm / t.rm) * (t.tn / t.rn);
  const ok =
    [t.tm, t.tn, t.tk, t.rm, t.rn].every((v) => Number.isInteger(v) && v >= 1) &&
    t.tm % t.rm === 0 &&
    t.tn % t.rn === 0 &&
    t.tk % 4 === 0 &&
    t.tm % 4 === 0 &&
    t.tn % 4 === 0 &&
    threads <= 256;
  if (!ok) throw new RangeError(`conv3d: bad tiled configuration ${JSON.stringify(t)}`);
}

function constants(t: TiledConfig, vec4: boolean): string {
  return [
    `const TM: u32 = ${t.tm}u;`,
    `const TN: u32 = ${t.tn}u;`,
    `const TK: u32 = ${t.tk}u;`,
    `const RM: u32 = ${t.rm}u;`,
    `const RN: u32 = ${t.rn}u;`,
    `const VEC: u32 = ${vec4 ? 4 : 1}u;`,
    `const ZERO: ${vec4 ? 'vec4<f32>' : 'f32'} = ${vec4 ? 'vec4<f32>(0.0)' : '0.0'};`,
  ].join('\n');
}

const cache = new Map<string, string>();

function fillConsts(skeleton: string, consts: string): string {
  if (!/^\/\/@CONSTS\s*$/m.test(skeleton)) throw new Error('conv3d codegen: skeleton has no //@CONSTS line');
  return skeleton.replace(/^\/\/@CONSTS\s*$/m, consts);
}

/** The full WGSL text of a tiled forward or backward-data kernel. */
export function tiledSource(t: TiledConfig, o: { vec4: boolean; transposed: boolean; bias: boolean; activation: Activation }): string {
  const key = JSON.stringify([t, o]);
  let source = cache.get(key);
  if (!source) {
    checkTiled(t);
    source = kernelSource(fillConsts(tiledSkeleton, constants(t, o.vec4)), {
      VEC4: o.vec4,
      TRANSPOSED: o.transposed,
      BIAS: o.bias,
      RELU: o.activation === 'relu',
    });
    cache.set(key, source);
  }
  return source;
}

/** The full WGSL text of a tiled backward-weight kernel. */
export function wgradTiledSource(t: TiledConfig, o: { vec4: boolean }): string {
  const key = `wgrad${JSON.stringify([t, o])}`;
  let source = cache.get(key);
  if (!source) {
    checkTiled(t);
    source = kernelSource(fillConsts(wgradSkeleton, constants(t, o.vec4)), { VEC4: o.vec4 });
    cache.set(key, source);
  }
  return source;
}
