// What the Node process (src/cli/chromium/) and the page it drives in headless Chromium
// (src/web/remote.ts) say to each other for `--runtime chromium`. Small messages travel as
// JSON through puppeteer (page.evaluate one way, exposed functions the other); bytes (scans, models,
// checkpoints, maps) travel over HTTP on 127.0.0.1, under a path only this run knows (`api`).
//
//   page -> Node bindings:  screenerLog(line), screenerStep(record, position), screenerProgress(done, total),
//                           screenerDone(outcome)   (a job's end: its result or its error)
//   HTTP from the page:     GET  {api}/in/NAME        bytes Node offered (scan-I, model, image)
//                           GET  {api}/file?path=P    a file the run may read (404: there is none)
//                           PUT  {api}/file?path=P    a file the run may write, written atomically by Node
//                           PUT  {api}/out/NAME       bytes the page hands back (map)
// Types only: nothing here runs, so both sides import it without pulling code across.
import type { AnomalyScore, CutFaces, KnnReference, LossRecord, ScreenerConfig, Shape3, Stage, TrainingPosition, Vec3 } from '../screener';

export interface TrainJob {
  kind: 'train';
  api: string;
  /** The scans, in order; scan i's voxels (float32, row-major [D, H, W]) are at {api}/in/scan-i. */
  scans: { id: string; shape: Shape3; spacing: Vec3 }[];
  out: string;
  config: ScreenerConfig;
  seed: number;
  stage?: Stage;
  steps?: number;
  resume: boolean;
  from?: string;
}

export interface PredictJob {
  kind: 'predict';
  api: string;
  /** The model file's name, for messages; its bytes are at {api}/in/model. */
  model: string;
  /** The preprocessed image (float32 at {api}/in/image) and its body mask (one byte a voxel at {api}/in/body). */
  shape: Shape3;
  /** The preprocessed grid's voxel size in mm (a knn model compared with its own scan measures distances in it). */
  spacing: Vec3;
  /** The faces where the field of view cut the body (predictImageOf): mirrored before the windows are placed. */
  cutFaces: CutFaces;
  overlap: number;
  /** The anomaly score to give instead of the one the model's config names. */
  score?: AnomalyScore;
  /** What a knn model compares with, instead of what its config names. */
  reference?: KnnReference;
  /** How many of the scan's cells a knn model compared with its scan draws, instead of its config's number. */
  referenceRows?: number;
}

export type RemoteJob = TrainJob | PredictJob;

export interface TrainOutcome {
  steps: Partial<Record<Stage, number>>;
  seconds: number;
  finalLosses: Partial<Record<Stage, number>>;
  history: LossRecord[];
}

/** The blended map itself went to {api}/out/map. */
export interface PredictOutcome {
  windows: number;
  seconds: number;
}

/** An error as it crosses over: DataError keeps its file and problem. */
export interface RemoteError {
  name: string;
  message: string;
  source?: string;
  problem?: string;
  stack?: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: RemoteError };

export interface AdapterInfo {
  ok: boolean;
  /** "vendor / architecture / description", or why there is no WebGPU. */
  text: string;
  software: boolean;
}

/** What the page puts on window for Node to call. */
export interface RemotePage {
  /** Opens the WebGPU device (kept for the page's life) and says what it is. */
  adapter(): Promise<AdapterInfo>;
  /** Starts a job; its end arrives through screenerDone. */
  start(job: RemoteJob): void;
}

/** The page's bindings to Node, as the page sees them (exposed by src/cli/chromium/runtime.node.ts). */
export interface NodeBindings {
  screenerLog(line: string): Promise<void>;
  screenerStep(record: LossRecord, position: TrainingPosition): Promise<void>;
  screenerProgress(done: number, total: number): Promise<void>;
  screenerDone(outcome: Outcome<TrainOutcome | PredictOutcome>): Promise<void>;
}
