// The page that `screener train --runtime chromium` and `screener predict --runtime chromium` drive in
// headless Chromium: the GPU work of those commands, on the browser's WebGPU, with the same code
// (driveTraining, predictPreprocessed) the Node runtime runs. It has no files: the Node process that
// launched the browser hands it the preprocessed scans and the model, and writes every byte the page
// gives back (checkpoints, model, loss curves, the map) with its own atomic writer. The protocol is in
// remote-protocol.ts; this page has no UI.
import {
  adapterName, browserRuntime, DataError, driveTraining, predictPreprocessed, readScreenerWeights, Screener, withAnomalyOptions,
  type RunFiles, type Runtime, type TrainingScan,
} from '../screener';
import type { NodeBindings, Outcome, PredictJob, PredictOutcome, RemoteError, RemoteJob, RemotePage, TrainJob, TrainOutcome } from './remote-protocol';

const node = window as unknown as NodeBindings & { screenerRemote?: RemotePage };

let runtime: Promise<Runtime> | null = null;

/** The device, opened once: a page serves one command. */
function device(): Promise<Runtime> {
  runtime ??= browserRuntime();
  return runtime;
}

/** A response's body, or an error carrying the text Node answered with. */
async function bodyOf(response: Response, what: string): Promise<Uint8Array> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  return bodyOf(await fetch(url, { cache: 'no-store' }), what);
}

async function putBytes(url: string, bytes: Uint8Array, what: string): Promise<void> {
  await bodyOf(await fetch(url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> }), what);
}

/** Float32 voxels from bytes (copied: the response buffer need not be 4-byte aligned at an offset). */
const float32 = (bytes: Uint8Array) => new Float32Array(bytes.slice().buffer);

/** The run's files, each one a request to the Node process, which checks the path is one of this run's. */
function nodeFiles(api: string): RunFiles {
  const url = (path: string) => `${api}/file?path=${encodeURIComponent(path)}`;
  return {
    async read(path) {
      const response = await fetch(url(path), { cache: 'no-store' });
      return response.status === 404 ? null : bodyOf(response, path);
    },
    write: (path, bytes) => putBytes(url(path), bytes, path),
  };
}

async function train(job: TrainJob): Promise<TrainOutcome> {
  const scans: TrainingScan[] = [];
  for (const [i, s] of job.scans.entries()) {
    scans.push({ id: s.id, shape: s.shape, spacing: s.spacing, data: float32(await fetchBytes(`${job.api}/in/scan-${i}`, s.id)) });
  }
  const result = await driveTraining({
    runtime: await device(),
    files: nodeFiles(job.api),
    scans,
    out: job.out,
    config: job.config,
    seed: job.seed,
    stage: job.stage,
    steps: job.steps,
    resume: job.resume,
    from: job.from,
    log: (line) => void node.screenerLog(line),
    onStep: (record, position) => void node.screenerStep(record, position),
  });
  return { steps: result.steps, seconds: result.seconds, finalLosses: result.finalLosses, history: result.history };
}

async function predict(job: PredictJob): Promise<PredictOutcome> {
  const rt = await device();
  const weights = readScreenerWeights(await fetchBytes(`${job.api}/in/model`, job.model), job.model);
  const model = Screener.fromWeights(rt, withAnomalyOptions(weights, { score: job.score, reference: job.reference, referenceRows: job.referenceRows }, job.model), job.model);
  try {
    const image = {
      data: float32(await fetchBytes(`${job.api}/in/image`, 'the preprocessed scan')),
      shape: job.shape,
      body: await fetchBytes(`${job.api}/in/body`, 'the body mask'),
      spacing: job.spacing,
      cutFaces: job.cutFaces,
    };
    const result = await predictPreprocessed(rt, model, image, { overlap: job.overlap, onProgress: (done, total) => void node.screenerProgress(done, total) });
    await putBytes(`${job.api}/out/map`, new Uint8Array(result.map.buffer, result.map.byteOffset, result.map.byteLength), 'the anomaly map');
    return { windows: result.windows, seconds: result.seconds };
  } finally {
    model.dispose();
  }
}

function remoteError(error: unknown): RemoteError {
  if (error instanceof DataError) return { name: error.name, message: error.message, source: error.source, problem: error.problem, stack: error.stack };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

node.screenerRemote = {
  async adapter() {
    try {
      const a = (await device()).adapter;
      return { ok: true, text: adapterName(a), software: a.software };
    } catch (error) {
      runtime = null;
      return { ok: false, text: error instanceof Error ? error.message : String(error), software: false };
    }
  },
  start(job: RemoteJob) {
    // Answered through a binding, not as page.evaluate's result: a training run outlasts any
    // protocol timeout.
    const run = job.kind === 'train' ? train(job) : predict(job);
    run.then(
      (value) => node.screenerDone({ ok: true, value } as Outcome<TrainOutcome | PredictOutcome>),
      (error) => node.screenerDone({ ok: false, error: remoteError(error) }),
    );
  },
};
