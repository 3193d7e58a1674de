// 3-D convolution and transposed convolution on channels-last activations [N, D, H, W, C], with
// weights [Cout, kD, kH, kW, Cin] (transposed: [Cin, kD, kH, kW, Cout], see convTranspose3d).
// Every direction runs on the implicit-GEMM kernels of src/kernels/conv3d (tiles picked by its tuner).
import { conv3dFastForward, conv3dFastGradInput, conv3dFastGradWeight, convOutputExtent, type Conv3dGeometry, type Triple } from '../../kernels/conv3d';
import { record } from '../tape';
import { shapeString, type Tensor } from '../tensor';
import { empty } from './create';
import { add } from './elementwise';
import { sum } from './reduce';

export interface Conv3dOptions {
  stride?: number | Triple;
  padding?: number | Triple;
}

export interface ConvTranspose3dOptions extends Conv3dOptions {
  /** Extra extent added on the high side of each output axis (PyTorch's output_padding), each < stride. */
  outputPadding?: number | Triple;
}

function triple(op: string, name: string, value: number | readonly number[], min: number): Triple {
  const t = typeof value === 'number' ? [value, value, value] : [...value];
  if (t.length !== 3 || !t.every((v) => Number.isInteger(v) && v >= min)) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min} or three of them, got ${JSON.stringify(value)}`);
  }
  return t as Triple;
}

function checkRank5(op: string, name: string, t: Tensor): void {
  if (t.rank !== 5) throw new RangeError(`${op}: ${name} ${shapeString(t.shape)} must have 5 dimensions`);
}

function checkBias(op: string, bias: Tensor | null, channels: number): void {
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new RangeError(`${op}: bias ${shapeString(bias.shape)} must have shape [${channels}]`);
  }
}

const spatial = (t: Tensor): Triple => [t.shape[1]!, t.shape[2]!, t.shape[3]!];
const outputShape = (g: Conv3dGeometry) => [g.batch, ...g.output, g.outChannels];
const inputShape = (g: Conv3dGeometry) => [g.batch, ...g.input, g.inChannels];

/**
 * y = conv3d(x, weight) + bias: x [N, D, H, W, Cin], weight [Cout, kD, kH, kW, Cin], bias [Cout] or null.
 * Zero padding; output extents floor((in + 2p - k) / s) + 1.
 */
export function conv3d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv3dOptions = {},
): Tensor {
  const op = 'conv3d';
  checkRank5(op, 'input', x);
  checkRank5(op, 'weight', weight);
  const inChannels = x.shape[4]!;
  if (weight.shape[4] !== inChannels) {
    throw new RangeError(`${op}: input ${shapeString(x.shape)} has ${inChannels} channels, weight ${shapeString(weight.shape)} expects ${weight.shape[4]}`);
  }
  const outChannels = weight.shape[0]!;
  checkBias(op, bias, outChannels);
  const kernel: Triple = [weight.shape[1]!, weight.shape[2]!, weight.shape[3]!];
  const stride = triple(op, 'stride', options.stride ?? 1, 1);
  const padding = triple(op, 'padding', options.padding ?? 0, 0);
  const input = spatial(x);
  const output = input.map((e, i) => convOutputExtent(e, kernel[i]!, stride[i]!, padding[i]!)) as Triple;
  if (output.some((e) => e < 1)) {
    throw new RangeError(`${op}: kernel [${kernel.join(', ')}] with padding [${padding.join(', ')}] does not fit input ${shapeString(x.shape)}`);
  }
  const geometry: Conv3dGeometry = { batch: x.shape[0]!, input, inChannels, output, outChannels, kernel, stride, padding };

  const y = empty(x.runtime, outputShape(geometry));
  conv3dFastForward(x.runtime, geometry, x.buffer, weight.buffer, bias?.buffer ?? null, y.buffer);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, op, inputs, (g) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.runtime, x.shape);
      conv3dFastGradInput(x.runtime, geometry, g.buffer, weight.buffer, dx.buffer);
    }
    if (weight.requiresGrad) {
      dw = empty(x.runtime, weight.shape);
      conv3dFastGradWeight(x.runtime, geometry, x.buffer, g.buffer, dw.buffer);
    }
    const db = bias?.requiresGrad ? sum(g, [0, 1, 2, 3]) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * The transposed 3-D convolution (the adjoint of conv3d, PyTorch's ConvTranspose3d): x [N, D, H, W, Cin],
 * weight [Cin, kD, kH, kW, Cout] (PyTorch's [Cin, Cout, kD, kH, kW] with the output channel moved last),
 * bias [Cout] or null. Output extents (in - 1) * s - 2p + k + outputPadding.
 */
export function convTranspose3d(x: Tensor, weight: Tensor, bias: Tensor | null, options: ConvTranspose3dOptions = {}): Tensor {
  const op = 'convTranspose3d';
  checkRank5(op, 'input', x);
  checkRank5(op, 'weight', weight);
  const inChannels = x.shape[4]!;
  if (weight.shape[0] !== inChannels) {
    throw new RangeError(`${op}: input ${shapeString(x.shape)} has ${inChannels} channels, weight ${shapeString(weight.shape)} expects ${weight.shape[0]}`);
  }
  const outChannels = weight.shape[4]!;
  checkBias(op, bias, outChannels);
  const kernel: Triple = [weight.shape[1]!, weight.shape[2]!, weight.shape[3]!];
  const stride = triple(op, 'stride', options.stride ?? 1, 1);
  const padding = triple(op, 'padding', options.padding ?? 0, 0);
  const extra = triple(op, 'outputPadding', options.outputPadding ?? 0, 0);
  if (extra.some((e, i) => e >= stride[i]!)) throw new RangeError(`${op}: outputPadding [${extra.join(', ')}] must be smaller than stride [${stride.join(', ')}]`);
  const input = spatial(x);
  const output = input.map((e, i) => (e - 1) * stride[i]! - 2 * padding[i]! + kernel[i]! + extra[i]!) as Triple;
  if (output.some((e) => e < 1)) throw new RangeError(`${op}: padding [${padding.join(', ')}] leaves no output for input ${shapeString(x.shape)}`);
  // The convolution whose input gradient this is: its input is our output and its output our input.
  const geometry: Conv3dGeometry = { batch: x.shape[0]!, input: output, inChannels: outChannels, output: input, outChannels: inChannels, kernel, stride, padding };

  const y = empty(x.runtime, inputShape(geometry));
  conv3dFastGradInput(x.runtime, geometry, x.buffer, weight.buffer, y.buffer);
  const out = record(y, op, [x, weight], (g) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.runtime, x.shape);
      conv3dFastForward(x.runtime, geometry, g.buffer, weight.buffer, null, dx.buffer);
    }
    if (weight.requiresGrad) {
      dw = empty(x.runtime, weight.shape);
      conv3dFastGradWeight(x.runtime, geometry, g.buffer, x.buffer, dw.buffer);
    }
    return [dx, dw];
  });
  return bias ? add(out, bias) : out;
}
