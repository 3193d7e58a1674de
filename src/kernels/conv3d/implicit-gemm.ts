// The implicit-GEMM 3-D convolutions (no im2col buffer), each with an explicit tile: the forward pass,
// the gradient with respect to the input (also the forward pass of a transposed convolution) and the
// gradient with respect to the weights. Activations [N, D, H, W, C], weights [Cout, kD, kH, kW, Cin].
//
// Two tile families (tiles.ts), both taken by every direction:
//  - 'blocked' (shaders/conv3d/blocked.wgsl, wgrad_blocked.wgsl): one invocation computes a register
//    block by itself, no workgroup memory, no barriers. Suits software adapters.
//  - 'tiled' (shaders/conv3d/tiled.wgsl, wgrad_tiled.wgsl): a workgroup stages tiles of the implicit
//    GEMM's operands in workgroup memory and each invocation accumulates a register block from them.
//    Suits GPUs.
// The kernel text of a tile comes from codegen.ts. The graph ops call the launchers of launchers.ts,
// which take the tile the tuner (tuner.ts) picks; these take it explicitly, which is how the tuner times
// candidates and how tests cover each family.
import splitSumSource from '../../../shaders/conv3d/split_sum.wgsl';
import layoutSource from '../../../shaders/conv3d/weight_layout.wgsl';
import type { Runtime } from '../../gpu/runtime';
import { kernelSource } from '../../gpu/shader';
import { uniforms, type Uniforms } from '../../gpu/uniforms';
import { blockedSource, tiledSource, wgradBlockedSource, wgradTiledSource } from './codegen';
import { volume, type Conv3dGeometry } from './geometry';
import { tileName, type Activation, type ConvTile, type TiledTile } from './tiles';

const WORKGROUP = 64;
const splitSumCode = kernelSource(splitSumSource);
const layoutCodes = { forward: kernelSource(layoutSource), transposed: kernelSource(layoutSource, { TRANSPOSED: true }) };

/** The extents, channels and tap geometry of one blocked/tiled gather in either direction. */
interface GatherShape {
  src: [number, number, number, number];
  dst: [number, number, number, number];
  batch: number;
  transposed: boolean;
}

function gatherParams(g: Conv3dGeometry, s: GatherShape, bv: number, bc: number) {
  const R = residues(g, s);
  const q = [0, 1, 2].map((i) => Math.ceil(s.dst[i]! / R[i]!));
  const qBlocks = Math.ceil(q[2]! / bv);
  const dstBlocks = Math.ceil(s.dst[3] / bc);
  const classes = volume(R);
  const total = dstBlocks * classes * s.batch * q[0]! * q[1]! * qBlocks;
  if (total > 0xffffffff) throw new RangeError(`conv3d fast: ${total} invocations exceed what one dispatch indexes`);
  const bytes = packGeometry(uniforms().u32(total, qBlocks, dstBlocks, classes), g, s, q, R).bytes();
  return { total, bytes };
}

/** The geometry block both forward/backward-data kernels read after their four leading counts (shaders/conv3d/shared/gather_geometry.wgsl). */
function packGeometry(u: Uniforms, g: Conv3dGeometry, s: GatherShape, q: number[], R: [number, number, number]): Uniforms {
  return u
    .vec4u(...s.src)
    .vec4u(...s.dst)
    .vec4u(q[0]!, q[1]!, q[2]!, s.batch)
    .vec4u(...g.kernel, volume(g.kernel))
    .vec4u(...g.stride)
    .vec4i(...g.padding)
    .vec4u(...R);
}

/** Residue classes per axis: destination positions r + R*q share their taps (R = stride when transposed). */
function residues(g: Conv3dGeometry, s: GatherShape): [number, number, number] {
  return s.transposed ? [...g.stride] : [1, 1, 1];
}

function checkSupported(g: Conv3dGeometry, what: string): void {
  if (!Number.isInteger(g.batch) || g.batch < 1) throw new RangeError(`${what}: batch must be >= 1`);
}

/** y = act(conv3d(x, w) + bias) with an explicit tile. */
export function conv3dFastForwardWith(
  runtime: Runtime,
  tile: ConvTile,
  g: Conv3dGeometry,
  x: GPUBuffer,
  w: GPUBuffer,
  bias: GPUBuffer | null,
  y: GPUBuffer,
  activation: Activation = 'none',
): void {
  checkSupported(g, 'conv3d fast forward');
  const shape: GatherShape = { src: [...g.input, g.inChannels], dst: [...g.output, g.outChannels], batch: g.batch, transposed: false };
  gather(runtime, tile, g, shape, x, w, bias, y, activation, 'conv3d_fast_forward');
}

/** dx = the gradient of conv3d with respect to its input (given dy and the [Cout, k, Cin] weights), with an explicit tile. */
export function conv3dFastGradInputWith(runtime: Runtime, tile: ConvTile, g: Conv3dGeometry, dy: GPUBuffer, w: GPUBuffer, dx: GPUBuffer): void {
  checkSupported(g, 'conv3d fast backward-data');
  const shape: GatherShape = { src: [...g.output, g.outChannels], dst: [...g.input, g.inChannels], batch: g.batch, transposed: true };
  gather(runtime, tile, g, shape, dy, w, null, dx, 'none', 'conv3d_fast_backward_data');
}

/**
 * The weights as wr[tap, source channel, destination channel], destination channels zero-padded to a
 * multiple of `block`, in a pooled buffer the caller releases.
 */
function relayoutWeights(runtime: Runtime, g: Conv3dGeometry, w: GPUBuffer, transposed: boolean, block: number): { wr: GPUBuffer; dstPad: number } {
  const taps = volume(g.kernel);
  const [srcC, dstC] = transposed ? [g.outChannels, g.inChannels] : [g.inChannels, g.outChannels];
  const dstPad = Math.ceil(dstC / block) * block;
  const total = taps * srcC * dstPad;
  const wr = runtime.buffer(total * 4, 'conv3d re-laid weights');
  runtime.dispatch({
    kernel: 'conv3d_weight_layout',
    source: transposed ? layoutCodes.transposed : layoutCodes.forward,
    constants: { WORKGROUP },
    buffers: [w, wr],
    uniforms: uniforms().u32(total, g.outChannels, taps, g.inChannels, dstPad).bytes(),
    workgroups: Math.ceil(total / WORKGROUP),
  });
  return { wr, dstPad };
}

function gather(
  runtime: Runtime,
  tile: ConvTile,
  g: Conv3dGeometry,
  s: GatherShape,
  src: GPUBuffer,
  w: GPUBuffer,
  bias: GPUBuffer | null,
  dst: GPUBuffer,
  activation: Activation,
  kernel: string,
): void {
  const vec4 = s.src[3] % 4 === 0;
  const { wr, dstPad } = relayoutWeights(runtime, g, w, s.transposed, tile.family === 'blocked' ? tile.bc : 4);
  const buffers = bias ? [src, wr, bias, dst] : [src, wr, dst];
  if (tile.family === 'blocked') {
    const p = gatherParams(g, s, tile.bv, tile.bc);
    runtime.dispatch({
      kernel: `${kernel} (${tileName(tile)})`,
      source: blockedSource({ bv: tile.bv, bc: tile.bc, vec4, srcChannels: s.src[3], transposed: s.transposed, bias: bias !== null, activation }),
      constants: { WORKGROUP },
      buffers,
      uniforms: p.bytes,
      workgroups: Math.ceil(p.total / WORKGROUP),
    });
  } else {
    const p = tiledParams(g, s, tile, dstPad, runtime.limits.maxComputeWorkgroupsPerDimension);
    runtime.dispatch({
      kernel: `${kernel} (${tileName(tile)})`,
      source: tiledSource(tile, { vec4, transposed: s.transposed, bias: bias !== null, activation }),
      buffers,
      uniforms: p.bytes,
      workgroups: p.grid,
    });
  }
  runtime.release(wr);
}

/** Tiled-family parameters: M = destination voxels in residue-class order, N = destination channels. */
function tiledParams(g: Conv3dGeometry, s: GatherShape, t: TiledTile, dstPad: number, max: number) {
  const R = residues(g, s);
  const q = [0, 1, 2].map((i) => Math.ceil(s.dst[i]! / R[i]!));
  const perClass = s.batch * q[0]! * q[1]! * q[2]!;
  const mTiles = Math.ceil(perClass / t.tm);
  const nTiles = Math.ceil(s.dst[3] / t.tn);
  const classes = volume(R);
  const bytes = packGeometry(uniforms().u32(perClass, mTiles, nTiles, classes), g, s, q, R).u32(dstPad).bytes();
  if (nTiles * classes > max) throw new RangeError(`conv3d fast: ${s.dst[3]} channels need too many tiles`);
  return { bytes, grid: foldTiles(mTiles, nTiles * classes, max) };
}

/** Grid x walks M tiles (folded into z past the per-dimension limit), y walks channel tiles x classes. */
function foldTiles(mTiles: number, ny: number, max: number): [number, number, number] {
  const z = Math.ceil(mTiles / max);
  return [Math.ceil(mTiles / z), ny, z];
}

/** The geometry block both backward-weight kernels read after their four leading counts (shaders/conv3d/shared/wgrad_geometry.wgsl). */
function packWgradGeometry(u: Uniforms, g: Conv3dGeometry): Uniforms {
  return u
    .vec4u(...g.input, g.inChannels)
    .vec4u(...g.output, g.outChannels)
    .vec4u(...g.kernel, volume(g.kernel))
    .vec4u(...g.stride, g.batch)
    .vec4i(...g.padding);
}

/** How many partial sums to split the backward-weight reduction into, so the device has enough invocations. */
function autoSplits(runtime: Runtime, g: Conv3dGeometry, invocationsPerSplit: number): number {
  const slices = g.batch * g.output[0];
  const target = runtime.adapter.software ? 2048 : 65536;
  return Math.max(1, Math.min(slices, Math.ceil(target / invocationsPerSplit)));
}

/** dw = the gradient of conv3d with respect to its weights, with an explicit tile. */
export function conv3dFastGradWeightWith(runtime: Runtime, tile: ConvTile, g: Conv3dGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer): void {
  checkSupported(g, 'conv3d fast backward-weight');
  const taps = volume(g.kernel);
  const count = g.outChannels * taps * g.inChannels;
  const slices = g.batch * g.output[0];
  let splits: number;
  let dispatch: (part: GPUBuffer, slicesPerSplit: number) => void;
  if (tile.family === 'blocked') {
    const vec4 = g.inChannels % 4 === 0 && g.outChannels % 4 === 0;
    // The block is bc output channels x bv input channels (bv rounded to a multiple of 4). In vec4 mode
    // a block must not straddle the channel count: it shrinks to 4, which divides it. Read one channel
    // at a time, it takes no more input channels than there are (the first layer's 1 or 2), since each
    // one past them would be multiply-adds of a repeated channel, thrown away.
    const bo = vec4 && g.outChannels % tile.bc !== 0 ? 4 : tile.bc;
    const bvRounded = Math.max(4, Math.floor(tile.bv / 4) * 4);
    const bi = vec4 ? (g.inChannels % bvRounded !== 0 ? 4 : bvRounded) : Math.min(bvRounded, g.inChannels);
    const iBlocks = Math.ceil(g.inChannels / bi);
    const oBlocks = Math.ceil(g.outChannels / bo);
    splits = tile.splits || autoSplits(runtime, g, iBlocks * oBlocks * taps);
    dispatch = (part, slicesPerSplit) => {
      const total = iBlocks * oBlocks * taps * splits;
      runtime.dispatch({
        kernel: `conv3d_fast_backward_weight (${tileName(tile)})`,
        source: wgradBlockedSource({ bo, bi, vec4 }),
        constants: { WORKGROUP },
        buffers: [x, dy, part],
        uniforms: packWgradGeometry(uniforms().u32(total, iBlocks, oBlocks, slicesPerSplit), g).bytes(),
        workgroups: Math.ceil(total / WORKGROUP),
      });
    };
  } else {
    const vec4 = g.inChannels % 4 === 0 && g.outChannels % 4 === 0;
    const mTiles = Math.ceil(g.outChannels / tile.tm);
    const nTiles = Math.ceil((taps * g.inChannels) / tile.tn);
    splits = tile.splits || autoSplits(runtime, g, mTiles * nTiles * (tile.tm / tile.rm) * (tile.tn / tile.rn));
    dispatch = (part, slicesPerSplit) => {
      runtime.dispatch({
        kernel: `conv3d_fast_backward_weight (${tileName(tile)})`,
        source: wgradTiledSource(tile, { vec4 }),
        buffers: [x, dy, part],
        uniforms: packWgradGeometry(uniforms().u32(mTiles, nTiles, slicesPerSplit, splits), g).bytes(),
        workgroups: foldTiles(mTiles * nTiles, splits, runtime.limits.maxComputeWorkgroupsPerDimension),
      });
    };
  }
  splits = Math.max(1, Math.min(splits, slices));
  const slicesPerSplit = Math.ceil(slices / splits);
  splits = Math.ceil(slices / slicesPerSplit);
  if (splits === 1) {
    dispatch(dw, slicesPerSplit);
    return;
  }
  const part = runtime.buffer(splits * count * 4, 'conv3d weight-gradient partial sums');
  dispatch(part, slicesPerSplit);
  runtime.dispatch({
    kernel: 'conv3d_fast_split_sum',
    source: splitSumCode,
    constants: { WORKGROUP },
    buffers: [part, dw],
    uniforms: uniforms().u32(count, splits).bytes(),
    workgroups: Math.ceil(count / WORKGROUP),
  });
  runtime.release(part);
}
