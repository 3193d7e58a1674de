// The nearest-row search behind the knn density (src/kernels/nearest-row.ts) at the sizes a knn model
// scores: the pooled descriptors of one 32^3 window (16^3 = 4096 queries) against a bank of 4096, for the
// presets' descriptor widths, and the scan reference's search (--reference scan): the same sizes at d 16
// with every row placed in a scan, rows within 32 mm of the query skipped. The peer is the same search in
// TensorFlow.js's WebGPU backend, written as a framework would: argMin over |b|^2 - 2 x b^T (a matMul and
// an argMin), with the rows too near masked by a where() over the pairwise position distances.
//
// FLOPs are counted as 2 per (query, bank row, value), a multiply-add: the work of the matMul form.
import { UsageError } from '../../src/cli/args';
import type { Runtime } from '../../src/gpu/runtime';
import { timeGpu } from '../../src/gpu/timing';
import { nearestRows, nearestRowsPerInvocation, type RowsApart } from '../../src/kernels/nearest-row';
import { SCAN_REFERENCE_APART_MM } from '../../src/model/scan-reference';
import { benchValues, type BenchCase, type Benchmark } from '../harness';
import { startTfjs, type TfjsPeer } from '../peers/tfjs';

interface Size {
  queries: number;
  bankRows: number;
  cols: number;
  /** Rows nearer than this (mm) to the query are skipped: the scan reference's search. */
  apartMm?: number;
}

const SIZES: Size[] = [
  { queries: 4096, bankRows: 4096, cols: 8 },
  { queries: 4096, bankRows: 4096, cols: 16 },
  { queries: 4096, bankRows: 4096, cols: 32 },
  { queries: 4096, bankRows: 4096, cols: 16, apartMm: SCAN_REFERENCE_APART_MM },
];

/** Edge (mm) of the cube the scan reference's rows are drawn from: a trunk-sized scan. */
const SCAN_EDGE_MM = 320;
/** The queries' cells: a 16^3 grid 8 mm apart (one 32^3 window of 4 mm voxels, pooled 2x2x2) in the scan's middle. */
const CELL_MM = 8;

interface Placement {
  xPosition: Float32Array;
  bankPosition: Float32Array;
}

/** Query positions on the window's cell grid and bank positions spread over the scan, [n, 3] each. */
function positions(s: Size): Placement {
  const side = Math.round(Math.cbrt(s.queries));
  const offset = (SCAN_EDGE_MM - side * CELL_MM) / 2;
  const xPosition = new Float32Array(s.queries * 3).map((_, k) => {
    const i = Math.floor(k / 3);
    const coordinate = [Math.floor(i / (side * side)), Math.floor(i / side) % side, i % side][k % 3]!;
    return offset + (coordinate + 0.5) * CELL_MM;
  });
  const bankPosition = benchValues(s.bankRows * 3, 3).map((v) => (v + 0.5) * SCAN_EDGE_MM);
  return { xPosition, bankPosition };
}

/** TF.js's time for the search, and its indices (to check that both searched the same thing). */
async function peerSearch(peer: TfjsPeer, x: Float32Array, bank: Float32Array, s: Size, place: Placement | null, runs: number) {
  const { tf } = peer;
  const xt = tf.tensor2d(x, [s.queries, s.cols]);
  const bt = tf.tensor2d(bank, [s.bankRows, s.cols]);
  const norms = tf.reshape(tf.sum(tf.square(bt), 1), [1, s.bankRows]);
  const xp = place ? tf.tensor2d(place.xPosition, [s.queries, 3]) : null;
  const bp = place ? tf.tensor2d(place.bankPosition, [s.bankRows, 3]) : null;
  const score = () => tf.sub(norms, tf.matMul(tf.mul(xt, 2), bt, false, true));
  // Squared distances between positions as |p|^2 + |q|^2 - 2 p q^T: one more matMul, no [n, m, 3] tensor.
  const tooNear = () => {
    const gap2 = tf.add(tf.sum(tf.square(xp!), 1, true), tf.sub(tf.reshape(tf.sum(tf.square(bp!), 1), [1, s.bankRows]), tf.matMul(tf.mul(xp!, 2), bp!, false, true)));
    return tf.lessEqual(gap2, s.apartMm! ** 2);
  };
  const run = () =>
    tf.tidy(() => (place ? tf.argMin(tf.where(tooNear(), tf.fill([s.queries, s.bankRows], Infinity), score()), 1) : tf.argMin(score(), 1)));
  try {
    const ms = await peer.time(run, runs);
    const out = run();
    const indices = (await out.data()) as Int32Array;
    out.dispose();
    return { ms, indices };
  } finally {
    tf.dispose([xt, bt, norms, ...(xp && bp ? [xp, bp] : [])]);
  }
}

export const nearest: Benchmark = {
  name: 'nearest',
  description: `nearest-row search of the knn density (4096 queries, a 4096-row bank; also with rows within ${SCAN_REFERENCE_APART_MM} mm skipped) vs TensorFlow.js WebGPU`,
  options: {
    'no-peer': { type: 'boolean', description: 'skip the TensorFlow.js peer' },
    'rows-per-invocation': { type: 'string', value: 'LIST', description: 'register blocks to time, e.g. 1,2,4 (default: the one the kernel chooses)' },
  },
  async run({ runtime, options }) {
    const software = runtime.adapter.software;
    const runs = software ? 5 : 20;
    const blocks = options['rows-per-invocation'] ? String(options['rows-per-invocation']).split(',').map(Number) : [undefined];
    if (blocks.some((b) => b !== undefined && !(Number.isInteger(b) && b >= 1 && b <= 16))) throw new UsageError(`nearest: --rows-per-invocation takes integers 1 to 16, got ${String(options['rows-per-invocation'])}`);
    // The peer starts after the options are checked: a bad option fails before any work.
    const peer = options['no-peer'] ? null : await startTfjs();
    const cases: BenchCase[] = [];
    for (const s of SIZES) {
      const x = benchValues(s.queries * s.cols, 1);
      const bank = benchValues(s.bankRows * s.cols, 2);
      const place = s.apartMm === undefined ? null : positions(s);
      const { xb, bb, out, apart } = upload(runtime, x, bank, s, place);
      try {
        const peerResult = peer ? await peerSearch(peer, x, bank, s, place, software ? 1 : 10) : null;
        for (const block of blocks) {
          const rowsPerInvocation = block ?? nearestRowsPerInvocation(software, Math.ceil(s.cols / 4));
          const launch = () => nearestRows(runtime, xb, s.queries, s.cols, bb, s.bankRows, out, rowsPerInvocation, apart);
          const timing = await timeGpu(runtime, launch, { warmup: 1, runs });
          const indices = new Int32Array(await runtime.read(out, 0, s.queries * 4));
          const agree = peerResult ? indices.reduce((n, v, i) => n + (v === peerResult.indices[i] ? 1 : 0), 0) / s.queries : null;
          cases.push({
            name: `d ${s.cols}, ${rowsPerInvocation} rows per invocation${s.apartMm === undefined ? '' : `, rows within ${s.apartMm} mm skipped`}`,
            shape: `[${s.queries}, ${s.cols}] against [${s.bankRows}, ${s.cols}]`,
            medianMs: timing.medianMs,
            flops: 2 * s.queries * s.bankRows * s.cols,
            peerMedianMs: peerResult?.ms ?? null,
            extra: { rowsPerInvocation, apartMm: s.apartMm ?? null, sameIndexAsPeer: agree },
          });
        }
      } finally {
        for (const b of [xb, bb, out, ...(apart ? [apart.xPosition, apart.bankPosition] : [])]) runtime.release(b);
      }
    }
    return cases;
  },
};

function upload(runtime: Runtime, x: Float32Array, bank: Float32Array, s: Size, place: Placement | null) {
  const xb = runtime.buffer(x.byteLength, 'bench queries');
  const bb = runtime.buffer(bank.byteLength, 'bench bank');
  const out = runtime.buffer(s.queries * 4, 'bench nearest');
  runtime.write(xb, x);
  runtime.write(bb, bank);
  let apart: RowsApart | undefined;
  if (place && s.apartMm !== undefined) {
    apart = { xPosition: runtime.buffer(place.xPosition.byteLength, 'bench query positions'), bankPosition: runtime.buffer(place.bankPosition.byteLength, 'bench bank positions'), minDistance: s.apartMm };
    runtime.write(apart.xPosition, place.xPosition);
    runtime.write(apart.bankPosition, place.bankPosition);
  }
  return { xb, bb, out, apart };
}

