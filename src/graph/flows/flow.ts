// What every normalizing-flow layer shares: the forward/inverse contract and the channels-last
// bookkeeping that lets one layer serve [B, C] toy data and [N, D, H, W, C] maps alike.
import type { Module } from '../nn/module';
import { shapeString, type Tensor } from '../tensor';
import { deriveSeed } from '../ops/random';

/**
 * A flow's forward pass: y = f(x) and log|det df/dx| per position, i.e. shape x.shape[:-1] (one value
 * per sample of [B, C] data, one per voxel of a [N, D, H, W, C] map). A flow acts on the channels of
 * each position separately, so the Jacobian is block-diagonal over positions.
 */
export interface FlowOutput {
  y: Tensor;
  logdet: Tensor;
}

/** A flow layer is an nn Module (named parameters, state, dispose) with a forward and an inverse. */
export interface FlowLayer extends Module {
  forward(x: Tensor, condition?: Tensor): FlowOutput;
  inverse(y: Tensor, condition?: Tensor): Tensor;
}

/** The leading (position) axes of a channels-last tensor. */
export function positionShape(x: Tensor): number[] {
  return x.shape.slice(0, -1);
}

/** Checks that x is channels-last with `channels` channels, and a condition (if any) matches it. */
export function checkInputs(op: string, x: Tensor, channels: number, condition: Tensor | undefined, conditionChannels: number): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== channels) {
    throw new RangeError(`${op}: input ${shapeString(x.shape)} must be channels-last with ${channels} channels`);
  }
  if (conditionChannels === 0) {
    if (condition) throw new RangeError(`${op}: was built without a condition, got one of shape ${shapeString(condition.shape)}`);
    return;
  }
  if (!condition) throw new RangeError(`${op}: needs a condition with ${conditionChannels} channels`);
  const lead = positionShape(x);
  const agrees = condition.rank === x.rank && condition.shape[x.rank - 1] === conditionChannels && lead.every((d, i) => d === condition.shape[i]);
  if (!agrees) {
    throw new RangeError(`${op}: condition ${shapeString(condition.shape)} must be ${shapeString([...lead, conditionChannels])} for input ${shapeString(x.shape)}`);
  }
}

/** Overwrites a parameter's values in place (so that optimisers and other holders still see it). */
export function assignInPlace(target: Tensor, value: Tensor): void {
  if (target.size !== value.size) throw new RangeError(`assignInPlace: ${shapeString(value.shape)} into ${shapeString(target.shape)}`);
  target.runtime.copy(value.buffer, 0, target.buffer, 0, target.size * 4);
}

/**
 * Seeded standard-normal numbers on the CPU, for initialisations that need CPU work anyway (an
 * orthogonal matrix): Box-Muller over the deterministic deriveSeed hash, the same on every host.
 */
export function seededNormals(seed: number, count: number): Float64Array {
  const uniform = (i: number) => (deriveSeed(seed, i) + 0.5) / 2 ** 53;
  return Float64Array.from({ length: count }, (_, i) => {
    const u1 = uniform(2 * i);
    const u2 = uniform(2 * i + 1);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
}
