// The implicit-GEMM 3-D convolutions (src/kernels/conv3d) at the shapes of Screener's UNet, in all three
// directions, against TensorFlow.js's WebGPU backend on the same adapter in the same process.
//
// Flags: --no-peer (skip TensorFlow.js), --no-tune (the fixed default tiles), --tune-cache=FILE (the
// tuning table, read before and written after; default .cache/conv3d-tuning.json; --tune-cache=none to
// keep it in memory only), --shape=TEXT (only the shapes whose name contains TEXT, e.g. "stride 2").
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Runtime } from '../../src/gpu/runtime';
import { timeGpu } from '../../src/gpu/timing';
import { UsageError } from '../../src/cli/args';
import {
  conv3dFastForwardWith,
  conv3dFastGradInputWith,
  conv3dFastGradWeightWith,
  conv3dTuner,
  convFlops,
  tileName,
  type Conv3dGeometry,
  type ConvDirection,
  type Triple,
  type TuningTable,
} from '../../src/kernels/conv3d';
import { benchValues, type BenchCase, type Benchmark } from '../harness';
import { startTfjs, type TfjsPeer, type TfTensor } from '../peers/tfjs';

interface Shape {
  name: string;
  size: number;
  cin: number;
  cout: number;
  stride: number;
}

const SHAPES: Shape[] = [
  { name: '32^3 16->16', size: 32, cin: 16, cout: 16, stride: 1 },
  { name: '32^3 32->32', size: 32, cin: 32, cout: 32, stride: 1 },
  { name: '16^3 64->64', size: 16, cin: 64, cout: 64, stride: 1 },
  { name: '32^3 16->32 stride 2', size: 32, cin: 16, cout: 32, stride: 2 },
];
const DIRECTIONS: ConvDirection[] = ['forward', 'backwardData', 'backwardWeight'];

function geometry(s: Shape): Conv3dGeometry {
  const out = Math.floor((s.size + 2 - 3) / s.stride) + 1;
  const t = (v: number): Triple => [v, v, v];
  return { batch: 1, input: t(s.size), inChannels: s.cin, output: t(out), outChannels: s.cout, kernel: t(3), stride: t(s.stride), padding: t(1) };
}


function randomFill(runtime: Runtime, buffer: GPUBuffer, count: number, seed: number): void {
  runtime.write(buffer, benchValues(count, seed));
}

/** Where the tuned tiles are read from and kept unless --tune-cache says otherwise. */
const DEFAULT_TUNE_CACHE = '.cache/conv3d-tuning.json';

function readTable(path: string): TuningTable | null {
  try {
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as TuningTable) : null;
  } catch {
    return null; // a damaged cache is re-measured, not fatal
  }
}

function writeTable(path: string, table: TuningTable): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(table, null, 2)}\n`);
  renameSync(temporary, path);
}

// ---- the peer: TensorFlow.js's WebGPU backend -----------------------------------------------------

/** TF.js's time for one direction of the convolution of geometry g. */
async function peerTime(peer: TfjsPeer, direction: ConvDirection, g: Conv3dGeometry, runs: number): Promise<number> {
  const { tf } = peer;
  const x = tf.randomUniform([g.batch, ...g.input, g.inChannels], -0.5, 0.5) as import('@tensorflow/tfjs-core').Tensor5D;
  // TF.js weights are [kD, kH, kW, Cin, Cout]; 'same' padding gives our output extents (k = 3, p = 1).
  const w = tf.randomUniform([...g.kernel, g.inChannels, g.outChannels], -0.5, 0.5) as import('@tensorflow/tfjs-core').Tensor5D;
  const dy = tf.randomUniform([g.batch, ...g.output, g.outChannels], -0.5, 0.5) as import('@tensorflow/tfjs-core').Tensor5D;
  const strides = g.stride;
  // The kernels tf.grads of conv3d dispatches, called directly so that only that direction is timed.
  const run = () =>
    direction === 'forward'
      ? tf.conv3d(x, w, strides, 'same')
      : direction === 'backwardData'
        ? (tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { strides, pad: 'same', inputShape: x.shape }) as TfTensor)
        : (tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides, pad: 'same', filterShape: w.shape }) as TfTensor);
  try {
    return await peer.time(run, runs);
  } finally {
    tf.dispose([x, w, dy]);
  }
}

// ---- the benchmark --------------------------------------------------------------------------------

export const conv3d: Benchmark = {
  name: 'conv3d',
  description: 'implicit-GEMM conv3d forward, backward-data and backward-weight (k = 3, N = 1) vs TensorFlow.js WebGPU',
  options: {
    'no-tune': { type: 'boolean', description: 'use the default tiles instead of tuning them in the run' },
    'tune-cache': { type: 'string', value: 'FILE', description: 'tuned tiles to start from and to keep (none: neither)', default: DEFAULT_TUNE_CACHE },
    'no-peer': { type: 'boolean', description: 'skip the TensorFlow.js peer' },
    shape: { type: 'string', value: 'TEXT', description: 'only the shapes whose name contains TEXT (e.g. "stride 2")' },
  },
  async run({ runtime, options }) {
    const software = runtime.adapter.software;
    const only = options.shape as string | undefined;
    const shapes = SHAPES.filter((s) => only === undefined || s.name.includes(only));
    if (!shapes.length) throw new UsageError(`conv3d: no shape matches --shape=${only} (${SHAPES.map((s) => s.name).join(', ')})`);
    const runs = software ? 3 : 20;
    const peerRuns = software ? 1 : 10;
    const tuner = conv3dTuner(runtime);
    tuner.mode = options['no-tune'] ? 'off' : 'on';
    const cachePath = (options['tune-cache'] as string | undefined) ?? DEFAULT_TUNE_CACHE;
    const useCache = tuner.mode === 'on' && cachePath !== 'none';
    if (useCache) {
      const table = readTable(cachePath);
      const adopted = table ? tuner.importTable(table) : 0;
      if (adopted) console.error(`conv3d: ${adopted} tuned shape classes from ${cachePath}`);
    }
    // The peer starts after the options are checked: a bad option fails before any work.
    const peer = options['no-peer'] ? null : await startTfjs();

    const cases: BenchCase[] = [];
    for (const shape of shapes) {
      const g = geometry(shape);
      const xCount = g.batch * g.input[0] * g.input[1] * g.input[2] * g.inChannels;
      const yCount = g.batch * g.output[0] * g.output[1] * g.output[2] * g.outChannels;
      const wCount = g.outChannels * 27 * g.inChannels;
      const x = runtime.buffer(xCount * 4, 'bench x');
      const dx = runtime.buffer(xCount * 4, 'bench dx');
      const y = runtime.buffer(yCount * 4, 'bench y');
      const w = runtime.buffer(wCount * 4, 'bench w');
      const dw = runtime.buffer(wCount * 4, 'bench dw');
      const bias = runtime.buffer(g.outChannels * 4, 'bench bias');
      randomFill(runtime, x, xCount, 1);
      randomFill(runtime, y, yCount, 2);
      randomFill(runtime, w, wCount, 3);
      randomFill(runtime, bias, g.outChannels, 4);
      try {
        for (const direction of DIRECTIONS) {
          tuner.choose(direction, g); // queues the class for tuning unless the table has it
          const tuned = tuner.mode === 'on' ? await tuner.tunePending() : [];
          for (const t of tuned) console.error(`conv3d: tuned ${t.shapeClass}: ${t.timings.map((c) => `${c.name} ${c.ms.toFixed(1)} ms`).join(', ')}`);
          const tile = tuner.choose(direction, g);
          const launch =
            direction === 'forward'
              ? () => conv3dFastForwardWith(runtime, tile, g, x, w, bias, y)
              : direction === 'backwardData'
                ? () => conv3dFastGradInputWith(runtime, tile, g, y, w, dx)
                : () => conv3dFastGradWeightWith(runtime, tile, g, x, y, dw);
          // On a GPU one convolution takes microseconds, less than a submit-and-wait round trip: time a
          // batch of launches per wait and divide, so the figure is the kernels' and not the driver's.
          const batch = software ? 1 : 20;
          const timing = await timeGpu(runtime, () => { for (let i = 0; i < batch; i++) launch(); }, { warmup: 1, runs });
          timing.medianMs /= batch;
          const peerMedianMs = peer ? await peerTime(peer, direction, g, peerRuns) : null;
          cases.push({
            name: `${shape.name} ${direction}`,
            shape: `[1, ${g.input.join(', ')}, ${g.inChannels}] -> [1, ${g.output.join(', ')}, ${g.outChannels}], k 3, s ${shape.stride}, p 1`,
            medianMs: timing.medianMs,
            flops: convFlops(g), // every direction is the same GEMM: 2 N Dout Hout Wout Cout Cin k^3
            peerMedianMs,
            extra: { direction, tile: tileName(tile), launchesPerTiming: batch },
          });
        }
      } finally {
        for (const b of [x, dx, y, w, dw, bias]) runtime.release(b);
      }
    }
    if (useCache) writeTable(cachePath, tuner.exportTable());
    return cases;
  },
};
