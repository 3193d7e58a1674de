// Generates the unrolled register blocks of the blocked (software-adapter) convolution kernels.
//
// The skeletons live in shaders/conv3d_igemm_blocked.wgsl and shaders/conv3d_igemm_wgrad_blocked.wgsl;
// each `//@NAME` line there is replaced by the code below. The block is written out variable by variable
// because SwiftShader's subzero JIT neither unrolls loops nor keeps indexed arrays in registers.
import blockedSkeleton from '../../shaders/conv3d_igemm_blocked.wgsl';
import wgradSkeleton from '../../shaders/conv3d_igemm_wgrad_blocked.wgsl';
import { kernelSource } from '../gpu/shader';

export type Activation = 'none' | 'relu';

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
  /** Source channel count: the channel loop is unrolled for it (a small count otherwise costs more in loop overhead than in arithmetic). */
  srcChannels: number;
}

/** The largest divisor of `n` up to `max`: how many steps of a loop over n to unroll. */
export function unrollFactor(n: number, max = 8): number {
  for (let u = Math.min(n, max); u > 1; u--) if (n % u === 0) return u;
  return 1;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const lanes = ['x', 'y', 'z', 'w'] as const;

function fill(skeleton: string, parts: Record<string, string>): string {
  return skeleton.replace(/^\/\/@([A-Z]+)\s*$/gm, (_, name: string) => {
    const part = parts[name];
    if (part === undefined) throw new Error(`conv3d codegen: no code for //@${name}`);
    return part;
  });
}

const cache = new Map<string, string>();

/** The full WGSL text of a blocked forward or backward-data kernel. */
export function blockedSource(c: BlockedConfig): string {
  const key = JSON.stringify(c);
  const hit = cache.get(key);
  if (hit) return hit;
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
  const unroll = unrollFactor(cvec);
  const body: string[] = [];
  for (let u = 0; u < unroll; u++) {
    const cc = unroll === cvec ? `${u}u` : `(c + ${u}u)`;
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
  const inner = unroll === cvec ? ['        {', ...body, '        }'].join('\n') : [`        for (var c = 0u; c < ${cvec}u; c += ${unroll}u) {`, ...body, '        }'].join('\n');

  const store = ['  let dst_row = ((n * dd.x + od) * dd.y + oh) * dd.z;'];
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

  const source = kernelSource(fill(blockedSkeleton, { CONSTS: `const BV: u32 = ${c.bv}u;\nconst BC: u32 = ${c.bc}u;`, DECLARE: declare, TAP: tap, INNER: inner, STORE: store.join('\n') }), {
    VEC4: c.vec4,
    TRANSPOSED: c.transposed,
    BIAS: c.bias,
  });
  cache.set(key, source);
  return source;
}

export interface WgradBlockedConfig {
  /** Output channels (dy channels) per invocation, a multiple of 4. */
  bo: number;
  /** Input channels (x channels) per invocation, a multiple of 4. */
  bi: number;
  /** Both channel counts are multiples of 4: read x and dy as vec4. */
  vec4: boolean;
}

/** The full WGSL text of a blocked backward-weight kernel (one tap, BO x BI weights per invocation). */
export function wgradBlockedSource(c: WgradBlockedConfig): string {
  const key = `wgrad${JSON.stringify(c)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (c.bo % 4 !== 0 || c.bi % 4 !== 0) throw new RangeError(`conv3d codegen: bad weight block ${c.bo} x ${c.bi}`);
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

  const source = kernelSource(
    fill(wgradSkeleton, { CONSTS: `const BO: u32 = ${c.bo}u;\nconst BI: u32 = ${c.bi}u;`, DECLARE: [declare, ...clamps].join('\n'), INNER: body.join('\n'), STORE: store.join('\n') }),
    { VEC4: c.vec4 },
  );
  cache.set(key, source);
  return source;
}
