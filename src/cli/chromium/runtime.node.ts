// `--runtime chromium`: the GPU work of `screener train` and `screener predict` in headless Chromium.
// Node keeps everything that touches files (reading and preprocessing scans, path checks, the atomic
// writes of checkpoints, model, loss curves and maps); the page (src/web/remote.ts) runs the same
// training driver and the same sliding-window predictor as the Node runtime, on the browser's WebGPU.
// That is how a machine without Node's Dawn addon, or with a GPU only a browser may use, trains.
import { existsSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { DataError } from '../../data/errors';
import type { TrainingScan } from '../../train/scans';
import { trainPaths, type TrainRunOptions, type TrainRunResult } from '../../train/run';
import type { PredictImage, WindowedMap } from '../../model/predict';
import type { AnomalyScore, KnnReference } from '../../model/config';
import type { AdapterInfo, NodeBindings, Outcome, PredictJob, PredictOutcome, RemoteError, RemoteJob, RemotePage, TrainJob, TrainOutcome } from '../../web/remote-protocol';
import { findBuilt } from '../built-files';
import { Bridge } from './bridge.node';
import { chromiumPath, INSTALL_CHROMIUM, launchChromium, type LaunchedChromium } from './browser.node';

/** What a training run in the page needs: the Node run's options without the device and the files. */
export type ChromiumTrainOptions = Omit<TrainRunOptions, 'runtime' | 'files' | 'signal'>;

/** An error from the page as the same kind of error here: a DataError stays one. */
function localError(e: RemoteError): Error {
  const error = e.source !== undefined && e.problem !== undefined ? new DataError(e.source, e.problem) : new Error(e.message);
  if (!(error instanceof DataError)) error.name = e.name;
  if (e.stack) error.stack = e.stack;
  return error;
}

export class ChromiumRuntime {
  private current: {
    resolve(outcome: Outcome<TrainOutcome | PredictOutcome>): void;
    reject(error: Error): void;
    onStep?: ChromiumTrainOptions['onStep'];
    log?: ChromiumTrainOptions['log'];
    onProgress?: (done: number, total: number) => void;
  } | null = null;

  private constructor(
    private readonly chromium: LaunchedChromium,
    private readonly page: Page,
    private readonly bridge: Bridge,
    /** The page's WebGPU adapter. */
    readonly adapter: AdapterInfo,
  ) {}

  /** Starts Chromium, serves the page and opens its WebGPU device; fails with what is missing. */
  static async start(): Promise<ChromiumRuntime> {
    const bundles = { page: findBuilt('web/remote.js'), screener: findBuilt('screener.js') };
    for (const file of Object.values(bundles)) if (!existsSync(file)) throw new Error(`--runtime chromium: ${file} is not built: run npm run build`);
    const bridge = new Bridge(bundles);
    await bridge.listen();
    let chromium: LaunchedChromium | null = null;
    try {
      chromium = await launchChromium();
      const page = await chromium.browser.newPage();
      const runtime = new ChromiumRuntime(chromium, page, bridge, { ok: false, text: '', software: false });
      await runtime.expose();
      await page.goto(bridge.url);
      await page.waitForFunction(() => 'screenerRemote' in window, { timeout: 60_000 });
      const adapter = await page.evaluate(() => (window as unknown as { screenerRemote: RemotePage }).screenerRemote.adapter());
      if (!adapter.ok) {
        throw new Error(`--runtime chromium: ${chromiumPath()} has no WebGPU here (${adapter.text}). Chromium needs --enable-unsafe-webgpu (given) and, without a GPU, SwiftShader's Vulkan (${INSTALL_CHROMIUM})`);
      }
      (runtime as { adapter: AdapterInfo }).adapter = adapter;
      return runtime;
    } catch (error) {
      await chromium?.close();
      await bridge.close();
      throw error;
    }
  }

  /** The page's bindings: its log lines, steps, progress and the end of each job. */
  private async expose(): Promise<void> {
    const bindings: NodeBindings = {
      screenerLog: async (line) => this.current?.log?.(line),
      screenerStep: async (record, position) => this.current?.onStep?.(record, position),
      screenerProgress: async (done, total) => this.current?.onProgress?.(done, total),
      screenerDone: async (outcome) => this.current?.resolve(outcome),
    };
    for (const [name, fn] of Object.entries(bindings)) await this.page.exposeFunction(name, fn);
    // A crashed renderer or a dead browser ends the job in progress instead of leaving it waiting.
    this.page.on('error', (error) => this.current?.reject(new Error(`--runtime chromium: the page crashed (${error.message})`)));
    this.page.on('pageerror', (error) => this.current?.reject(new Error(`--runtime chromium: uncaught error in the page: ${error instanceof Error ? error.message : String(error)}`)));
    this.chromium.browser.on('disconnected', () => this.current?.reject(new Error('--runtime chromium: the browser exited')));
  }

  /** Runs one job in the page; its result, or its error as the same kind of error here. */
  private async run<T extends TrainOutcome | PredictOutcome>(job: RemoteJob, hooks: Omit<NonNullable<ChromiumRuntime['current']>, 'resolve' | 'reject'>): Promise<T> {
    if (this.current) throw new Error('--runtime chromium: one job at a time');
    this.bridge.writeError = null;
    try {
      const outcome = await new Promise<Outcome<TrainOutcome | PredictOutcome>>((resolve, reject) => {
        this.current = { ...hooks, resolve, reject };
        this.page.evaluate((j) => (window as unknown as { screenerRemote: RemotePage }).screenerRemote.start(j), job).catch(reject);
      });
      if (this.bridge.writeError) throw this.bridge.writeError;
      if (!outcome.ok) throw localError(outcome.error);
      return outcome.value as T;
    } finally {
      this.current = null;
    }
  }

  /** driveTraining in the page on these scans; its files are read and written here, through the bridge. */
  async train(o: ChromiumTrainOptions): Promise<TrainRunResult> {
    const paths = trainPaths(o.out);
    const { bridge } = this;
    bridge.offered.clear();
    o.scans.forEach((scan: TrainingScan, i) => bridge.offered.set(`scan-${i}`, new Uint8Array(scan.data.buffer, scan.data.byteOffset, scan.data.byteLength)));
    bridge.readable.clear();
    bridge.writable.clear();
    for (const path of [paths.model, paths.checkpoint, ...(o.from !== undefined ? [o.from] : [])]) bridge.readable.add(path);
    for (const path of [paths.model, paths.checkpoint, paths.csv, paths.png]) bridge.writable.add(path);
    const job: TrainJob = {
      kind: 'train',
      api: bridge.api,
      scans: o.scans.map((s) => ({ id: s.id, shape: [...s.shape], spacing: [...s.spacing] })),
      out: o.out,
      config: o.config,
      seed: o.seed,
      ...(o.stage !== undefined ? { stage: o.stage } : {}),
      ...(o.steps !== undefined ? { steps: o.steps } : {}),
      resume: o.resume === true,
      ...(o.from !== undefined ? { from: o.from } : {}),
    };
    try {
      const result = await this.run<TrainOutcome>(job, { log: o.log, onStep: o.onStep });
      return { ...result, paths };
    } finally {
      bridge.offered.clear();
      bridge.readable.clear();
      bridge.writable.clear();
    }
  }

  /** predictPreprocessed in the page: the blended map over the preprocessed image. */
  async predict(
    model: { name: string; bytes: Uint8Array },
    image: Required<PredictImage>,
    options: { overlap: number; score?: AnomalyScore; reference?: KnnReference; referenceRows?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<WindowedMap> {
    const { bridge } = this;
    bridge.offered.clear();
    bridge.received.clear();
    bridge.offered.set('model', model.bytes);
    bridge.offered.set('image', new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength));
    bridge.offered.set('body', image.body);
    const job: PredictJob = {
      kind: 'predict',
      api: bridge.api,
      model: model.name,
      shape: [...image.shape],
      spacing: [image.spacing[0]!, image.spacing[1]!, image.spacing[2]!],
      cutFaces: image.cutFaces,
      overlap: options.overlap,
      ...(options.score !== undefined ? { score: options.score } : {}),
      ...(options.reference !== undefined ? { reference: options.reference } : {}),
      ...(options.referenceRows !== undefined ? { referenceRows: options.referenceRows } : {}),
    };
    try {
      const result = await this.run<PredictOutcome>(job, { onProgress: options.onProgress });
      const bytes = bridge.received.get('map');
      if (!bytes || bytes.byteLength !== image.data.length * 4) throw new Error(`--runtime chromium: the page returned ${bytes?.byteLength ?? 0} bytes of map for ${image.data.length} voxels`);
      const map = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(map.buffer).set(bytes);
      return { map, windows: result.windows, seconds: result.seconds };
    } finally {
      bridge.offered.clear();
      bridge.received.clear();
    }
  }

  async close(): Promise<void> {
    await this.chromium.close();
    await this.bridge.close();
  }
}
