// The one code generator of the implicit-GEMM convolution kernels (implicit-gemm.ts): it fills the
// kernel skeletons in shaders/conv3d/ at their `//@NAME` lines, with code it writes for the tile (tile
// sizes, the blocked kernels' unrolled register blocks) and with the parts the kernels share, written
// once in shaders/conv3d/shared/ (Params geometry, bindings, channels-last addressing, the tiled
// micro-GEMM). Then the `#if` defines are resolved (src/gpu/shader.ts) and the text is cached per
// configuration.
//
// The blocked (software-adapter) register blocks are written out variable by variable because
// SwiftShader's subzero JIT neither unrolls loops nor keeps indexed arrays in registers. The tiled
// (GPU) kernels keep loops over the register block: GPU compilers unroll loops of constant trip count.
import blockedSkeleton from '../../../shaders/conv3d/blocked.wgsl';
import channelsLast from '../../../shaders/conv3d/shared/channels_last.wgsl';
import gatherBindings from '../../../shaders/conv3d/shared/gather_bindings.wgsl';
import gatherGeometry from '../../../shaders/conv3d/shared/gather_geometry.wgsl';
import microGemm from '../../../shaders/conv3d/shared/micro_gemm.wgsl';
import wgradBindings from '../../../shaders/conv3d/shared/wgrad_bindings.wgsl';
import wgradGeometry from '../../../shaders/conv3d/shared/wgrad_geometry.wgsl';
import tiledSkeleton from '../../../shaders/conv3d/tiled.wgsl';
import wgradBlockedSkeleton from '../../../shaders/conv3d/wgrad_blocked.wgsl';
import wgradTiledSkeleton from '../../../shaders/conv3d/wgrad_tiled.wgsl';
import { fillSkeleton, kernelSource, type Defines } from '../../gpu/shader';
import { checkTiled, type Activation, type TiledConfig } from './tiles';

/** The shared WGSL parts, by the name of the `//@NAME` line they replace. */
const SHARED: Record<string, string> = {
  GATHER_GEOMETRY: gatherGeometry,
  GATHER_BINDINGS: gatherBindings,
  WGRAD_GEOMETRY: wgradGeometry,
  WGRAD_BINDINGS: wgradBindings,
  CHANNELS_LAST: channelsLast,
  MICRO_GEMM: microGemm,
};

const cache = new Map<string, string>();

/** The kernel text for one configuration (`key`), made by `make` the first time it is asked for. */
function cached(key: string, make: () => { skeleton: string; generated: Record<string, string>; defines: Defines }): string {
  let source = cache.get(key);
  if (!source) {
    const { skeleton, generated, defines } = make();
    source = kernelSource(fillSkeleton(skeleton, { ...SHARED, ...generated }, 'conv3d codegen'), defines);
    cache.set(key, source);
  }
  return source;
}

export interface BlockedConfig {
  /** Destination voxels per invocation (along w). */
  bv: number;
  /** Destination channels per invocation, a multiple of 4. */
  bc: number;
  /** Source channels read as vec4 (the source channel count is a multiple of 4). */
  vec4: boolean;
  /** Backward-data / transposed convolution instead of the forward convolution. */
  transposed: boolean;
  bias: boolean;
  activation: Activation;
  /** Source channel count: a short channel loop is written out in full (WRITTEN_OUT_CHANNEL_STEPS). */
  srcChannels: number;
}

/**
 * The most source-channel steps (vec4s, or single channels) the blocked kernels write out in full; a
 * longer channel loop stays a loop of one step per iteration. Measured on SwiftShader, one process
 * alternating both forms (bv 8, bc up to 16): up to 4 steps, the written-out form is as fast or up to 1.4x
 * faster (8->8, 16->8 and 12->16 channels at 32^3), since a loop of so few steps costs more in overhead
 * than in arithmetic. Beyond that a step already holds bv x bc multiply-adds, and the written-out form was
 * 1.2-3.3x slower (32->32, 64->64, the stride-2 backward-data; unrolling by 2, 4 or 8 within the loop was
 * no better) and took 3-5x as long to compile (about 5 s for one 64-channel kernel).
 */
const WRITTEN_OUT_CHANNEL_STEPS = 4;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const lanes = ['x', 'y', 'z', 'w'] as const;

/** The full WGSL text of a blocked forward or backward-data kernel. */
export function blockedSource(c: BlockedConfig): string {
  return cached(`blocked${JSON.stringify(c)}`, () => blockedParts(c));
}

function blockedParts(c: BlockedConfig) {
  if (c.bc % 4 !== 0 || c.bc < 4 || c.bv < 1) throw new RangeError(`conv3d codegen: bad register block ${c.bv} x ${c.bc}`);
  const groups = c.bc / 4;
  const V = range(c.bv);
  const G = range(groups);
  const zero = c.vec4 ? 'vec4<f32>(0.0)' : '0.0';
  const cvec = c.vec4 ? c.srcChannels / 4 : c.srcChannels;

  const declare = [
    `  let cvec = ${cvec}u;`,
    // Vec4s per weight row (one source channel): the destination channels padded to whole blocks.
    '  let dpad4 = params.dst_blocks * (BC / 4u);',
    ...V.flatMap((v) => G.map((g) => `  var a${v}_${g} = vec4<f32>(0.0);`)),
  ].join('\n');

  const tap = [
    ...V.flatMap((v) => [
      `        let sw${v} = w_first + ${v} * w_step;`,
      `        let ok${v} = sw${v} >= 0 && sw${v} < i32(sd.z);`,
      `        let xb${v} = (row + u32(clamp(sw${v}, 0, i32(sd.z) - 1))) * cvec;`,
    ]),
    `        let wrow = tap * ${c.srcChannels}u * dpad4 + cb * (BC / 4u);`,
  ].join('\n');

  // One step reads source channel group `cc` (a vec4 of 4 channels, or 1 channel) of every voxel, then
  // for each of its channels the weight vec4s of the block's destination channels.
  const writtenOut = cvec <= WRITTEN_OUT_CHANNEL_STEPS;
  const body: string[] = [];
  for (let u = 0; u < (writtenOut ? cvec : 1); u++) {
    const cc = writtenOut ? `${u}u` : 'c';
    body.push(...V.map((v) => `          let x${v}_${u} = select(${zero}, src[xb${v} + ${cc}], ok${v});`));
    const channels = c.vec4 ? range(4) : [0];
    for (const e of channels) {
      const channel = c.vec4 ? `(4u * ${cc} + ${e}u)` : cc;
      for (const g of G) {
        const w = `w${u}_${e}_${g}`;
        body.push(`          let ${w} = wr[wrow + ${channel} * dpad4 + ${g}u];`);
        for (const v of V) body.push(`          a${v}_${g} = fma(vec4<f32>(x${v}_${u}${c.vec4 ? `.${lanes[e]}` : ''}), ${w}, a${v}_${g});`);
      }
    }
  }
  const inner = writtenOut ? ['        {', ...body, '        }'].join('\n') : [`        for (var c = 0u; c < ${cvec}u; c++) {`, ...body, '        }'].join('\n');

  const store = ['  let dst_row = voxel_row(n, od, oh, dd);'];
  for (const v of V) {
    store.push(`  let ow${v} = rw + R.z * (q0 + ${v}u);`);
    store.push(`  if (ow${v} < dd.z) {`);
    store.push(`    let o${v} = (dst_row + ow${v}) * dd.w;`);
    for (const g of G)
      for (let e = 0; e < 4; e++) {
        const ch = `c0 + ${4 * g + e}u`;
        let value = `a${v}_${g}.${lanes[e]}`;
        if (c.bias) value = `${value} + bias[${ch}]`;
        if (c.activation === 'relu') value = `max(${value}, 0.0)`;
        store.push(`    if (${ch} < dd.w) { dst[o${v} + ${ch}] = ${value}; }`);
      }
    store.push('  }');
  }

  return {
    skeleton: blockedSkeleton,
    generated: { CONSTS: `const BV: u32 = ${c.bv}u;\nconst BC: u32 = ${c.bc}u;`, DECLARE: declare, TAP: tap, INNER: inner, STORE: store.join('\n') },
    defines: { VEC4: c.vec4, TRANSPOSED: c.transposed, BIAS: c.bias },
  };
}

export interface WgradBlockedConfig {
  /** Output channels (dy channels) per invocation, a multiple of 4. */
  bo: number;
  /** Input channels (x channels) per invocation: a multiple of 4 with vec4, any count otherwise. */
  bi: number;
  /** Both channel counts are multiples of 4: read x and dy as vec4. */
  vec4: boolean;
}

/** The full WGSL text of a blocked backward-weight kernel (one tap, BO x BI weights per invocation). */
export function wgradBlockedSource(c: WgradBlockedConfig): string {
  return cached(`wgradBlocked${JSON.stringify(c)}`, () => wgradBlockedParts(c));
}

function wgradBlockedParts(c: WgradBlockedConfig) {
  if (c.bo % 4 !== 0 || c.bi < 1 || (c.vec4 && c.bi % 4 !== 0)) throw new RangeError(`conv3d codegen: bad weight block ${c.bo} x ${c.bi}`);
  const O = range(c.bo);
  const I = range(c.bi);
  const OG = range(c.bo / 4);
  const IG = range(c.bi / 4);

  // Accumulator a{i}_{og}: input channel i0 + i, output channels o0 + 4*og .. +3.
  const declare = [
    ...I.flatMap((i) => OG.map((g) => `  var a${i}_${g} = vec4<f32>(0.0);`)),
  ].join('\n');

  const body: string[] = [];
  if (c.vec4) {
    // x and dy bound as vec4 arrays; channel blocks start at multiples of 4.
    body.push(...IG.map((g) => `          let x${g} = xs[xv + ${g}u];`));
    body.push(...OG.map((g) => `          let y${g} = dys[yv + ${g}u];`));
    for (const i of I)
      for (const g of OG) body.push(`          a${i}_${g} = fma(vec4<f32>(x${Math.floor(i / 4)}.${lanes[i % 4]}), y${g}, a${i}_${g});`);
  } else {
    body.push(...I.map((i) => `          let x${i} = xs[xv + xi${i}];`));
    body.push(...O.map((o) => `          let y${o} = dys[yv + yo${o}];`));
    for (const i of I)
      for (const g of OG) {
        const ys = range(4).map((e) => `y${4 * g + e}`).join(', ');
        body.push(`          a${i}_${g} = fma(vec4<f32>(x${i}), vec4<f32>(${ys}), a${i}_${g});`);
      }
  }
  const clamps = c.vec4
    ? []
    : [...I.map((i) => `  let xi${i} = min(i0 + ${i}u, ci - 1u);`), ...O.map((o) => `  let yo${o} = min(o0 + ${o}u, co - 1u);`)];

  const store: string[] = [];
  for (const i of I)
    for (const g of OG)
      for (let e = 0; e < 4; e++) {
        const o = `o0 + ${4 * g + e}u`;
        store.push(`  if (${o} < co && i0 + ${i}u < ci) { part[part_base + ((${o}) * taps + tap) * ci + i0 + ${i}u] = a${i}_${g}.${lanes[e]}; }`);
      }

  return {
    skeleton: wgradBlockedSkeleton,
    generated: { CONSTS: `const BO: u32 = ${c.bo}u;\nconst BI: u32 = ${c.bi}u;`, DECLARE: [declare, ...clamps].join('\n'), INNER: body.join('\n'), STORE: store.join('\n') },
    defines: { VEC4: c.vec4 },
  };
}

/** The tile sizes of a tiled kernel, the invocations they imply and the element its slabs are loaded as. */
function tiledConstants(t: TiledConfig, vec4: boolean): string {
  return [
    `const TM: u32 = ${t.tm}u;`,
    `const TN: u32 = ${t.tn}u;`,
    `const TK: u32 = ${t.tk}u;`,
    `const RM: u32 = ${t.rm}u;`,
    `const RN: u32 = ${t.rn}u;`,
    `const VEC: u32 = ${vec4 ? 4 : 1}u;`,
    `const ZERO: ${vec4 ? 'vec4<f32>' : 'f32'} = ${vec4 ? 'vec4<f32>(0.0)' : '0.0'};`,
    'const THREADS_M: u32 = TM / RM;',
    'const THREADS_N: u32 = TN / RN;',
    'const THREADS: u32 = THREADS_M * THREADS_N;',
  ].join('\n');
}

/** The full WGSL text of a tiled forward or backward-data kernel. */
export function tiledSource(t: TiledConfig, o: { vec4: boolean; transposed: boolean; bias: boolean; activation: Activation }): string {
  return cached(`tiled${JSON.stringify([t, o])}`, () => {
    checkTiled(t);
    return {
      skeleton: tiledSkeleton,
      generated: { CONSTS: tiledConstants(t, o.vec4) },
      defines: { VEC4: o.vec4, TRANSPOSED: o.transposed, BIAS: o.bias, RELU: o.activation === 'relu' },
    };
  });
}

/** The full WGSL text of a tiled backward-weight kernel. */
export function wgradTiledSource(t: TiledConfig, o: { vec4: boolean }): string {
  return cached(`wgradTiled${JSON.stringify([t, o])}`, () => {
    checkTiled(t);
    return { skeleton: wgradTiledSkeleton, generated: { CONSTS: tiledConstants(t, o.vec4) }, defines: { VEC4: o.vec4 } };
  });
}
