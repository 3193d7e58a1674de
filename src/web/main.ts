// The page `screener serve` serves: open a CT or generate a phantom, choose a model, run Screener on
// this browser's WebGPU, look at the anomaly map over the CT in NiiVue, download it, train a tiny
// model. Each job is in its own module; this one holds the page's state and wires the controls.
import { DataError, formatDuration, TrainingInterrupted, type Stage } from '../screener';
import { byId, downloadBytes, errorText, nextFrame, readFileBytes, showMessage } from './dom';
import { startGpu, type GpuStatus } from './gpu-status';
import { LossPlot } from './loss-plot';
import { ModelLibrary } from './models';
import { runPrediction, type PredictionResult } from './prediction';
import { anomalyFileName, describeScan, NIFTI_NAME, phantomScan, scanFromFile, scanWarning, type OpenScan } from './scans';
import { trainingPhantom, trainingScans, trainInPage } from './training';
import { Viewer } from './viewer';

type Busy = 'scan' | 'predict' | 'train' | null;

const state = {
  gpu: null as GpuStatus | null,
  viewer: null as Viewer | null,
  library: new ModelLibrary(),
  scan: null as OpenScan | null,
  result: null as PredictionResult | null,
  busy: null as Busy,
  abort: null as AbortController | null,
  trainFiles: [] as File[],
  weights: null as { name: string; bytes: Uint8Array } | null,
  /** Errors shown to the user, newest last (read by the page test). */
  errors: [] as string[],
};

const ui = {
  adapter: byId('adapter'),
  gpuMissing: byId('gpu-missing'),
  scanFile: byId<HTMLInputElement>('scan-file'),
  phantom: byId<HTMLButtonElement>('phantom'),
  phantomSize: byId<HTMLSelectElement>('phantom-size'),
  phantomSeed: byId<HTMLInputElement>('phantom-seed'),
  scanInfo: byId('scan-info'),
  modelSelect: byId<HTMLSelectElement>('model-select'),
  modelFile: byId<HTMLInputElement>('model-file'),
  modelInfo: byId('model-info'),
  run: byId<HTMLButtonElement>('run'),
  runCancel: byId<HTMLButtonElement>('run-cancel'),
  overlap: byId<HTMLSelectElement>('overlap'),
  runProgress: byId<HTMLProgressElement>('run-progress'),
  runStatus: byId('run-status'),
  opacity: byId<HTMLInputElement>('opacity'),
  threshold: byId<HTMLInputElement>('threshold'),
  thresholdValue: byId<HTMLOutputElement>('threshold-value'),
  cursor: byId('cursor'),
  downloadMap: byId<HTMLButtonElement>('download-map'),
  trainSource: byId<HTMLSelectElement>('train-source'),
  trainCount: byId<HTMLInputElement>('train-count'),
  trainSteps: byId<HTMLInputElement>('train-steps'),
  trainFilesLabel: byId('train-files-label'),
  trainFiles: byId<HTMLInputElement>('train-files'),
  train: byId<HTMLButtonElement>('train'),
  trainCancel: byId<HTMLButtonElement>('train-cancel'),
  downloadWeights: byId<HTMLButtonElement>('download-weights'),
  trainStatus: byId('train-status'),
  viewerCanvas: byId<HTMLCanvasElement>('viewer'),
  viewerEmpty: byId('viewer-empty'),
  dropOverlay: byId('drop-overlay'),
};

const lossPlot = new LossPlot(byId<HTMLCanvasElement>('loss-plot'));

function fail(error: unknown): void {
  const text = errorText(error);
  state.errors.push(text);
  showMessage(text, 'error');
}

/** Enables what can be done now: no GPU, no scan, no model or a job running each disable something. */
function refresh(): void {
  const gpu = Boolean(state.gpu?.runtime);
  const idle = state.busy === null;
  ui.run.disabled = !(gpu && idle && state.scan && ui.modelSelect.value);
  ui.runCancel.disabled = state.busy !== 'predict';
  ui.train.disabled = !(gpu && idle && (ui.trainSource.value === 'phantoms' || state.trainFiles.length > 0));
  ui.trainCancel.disabled = state.busy !== 'train';
  ui.phantom.disabled = !idle;
  // A new scan or model while a job runs would change what that job reads (or free its model).
  ui.scanFile.disabled = ui.modelFile.disabled = ui.modelSelect.disabled = !idle;
  ui.downloadMap.disabled = !state.result;
  ui.threshold.disabled = !state.result;
  ui.downloadWeights.disabled = !state.weights;
  ui.trainFilesLabel.hidden = ui.trainSource.value !== 'scans';
  ui.trainCount.disabled = ui.trainSource.value !== 'phantoms';
  ui.viewerEmpty.hidden = state.scan !== null;
  document.body.dataset.busy = state.busy ?? '';
}

// ---- scans -----------------------------------------------------------------------------------------

async function openScan(make: () => OpenScan | Promise<OpenScan>, what: string): Promise<void> {
  state.busy = 'scan';
  refresh();
  ui.scanInfo.textContent = `${what}…`;
  await nextFrame();
  try {
    const scan = await make();
    state.scan = scan;
    state.result = null;
    ui.scanInfo.textContent = describeScan(scan);
    ui.runStatus.textContent = '';
    ui.runProgress.value = 0;
    showMessage(scanWarning(scan) ?? '', 'error');
    if (state.viewer) await state.viewer.showScan(scan.bytes, scan.name);
  } catch (error) {
    ui.scanInfo.textContent = state.scan ? describeScan(state.scan) : 'no scan yet';
    fail(error);
  } finally {
    state.busy = null;
    refresh();
  }
}

async function openScanFile(file: File): Promise<void> {
  await openScan(async () => scanFromFile(file.name, await readFileBytes(file)), `reading ${file.name}`);
}

// ---- models ----------------------------------------------------------------------------------------

function fillModelSelect(selected?: string): void {
  const keep = selected ?? ui.modelSelect.value;
  ui.modelSelect.replaceChildren(
    ...state.library.choices.map((c) => {
      const option = document.createElement('option');
      option.value = c.name;
      option.textContent = `${c.name}${c.origin === 'shipped' ? '' : c.origin === 'trained' ? ' (trained here)' : ' (opened)'}`;
      return option;
    }),
  );
  if (keep && state.library.find(keep)) ui.modelSelect.value = keep;
  showModelInfo();
  refresh();
}

function showModelInfo(): void {
  const choice = state.library.find(ui.modelSelect.value);
  ui.modelInfo.textContent = choice ? choice.description : 'no model: open a .safetensors file or train one below';
}

async function openModelFile(file: File): Promise<void> {
  try {
    const choice = state.library.add(file.name, await readFileBytes(file), 'opened');
    fillModelSelect(choice.name);
    showMessage(`${file.name}: loaded (${choice.description})`, 'ok');
  } catch (error) {
    fail(error instanceof DataError ? error : new DataError(file.name, errorText(error)));
  }
}

// ---- prediction ------------------------------------------------------------------------------------

async function run(): Promise<void> {
  const runtime = state.gpu?.runtime;
  const scan = state.scan;
  if (!runtime || !scan) return;
  state.busy = 'predict';
  state.abort = new AbortController();
  refresh();
  showMessage('');
  ui.runProgress.value = 0;
  ui.runStatus.textContent = `loading ${ui.modelSelect.value}…`;
  const started = performance.now();
  try {
    const model = await state.library.load(runtime, ui.modelSelect.value);
    ui.runStatus.textContent = 'preprocessing (body crop, resampling, HU window, CLAHE)…';
    await nextFrame();
    let windowsStarted = 0;
    const result = await runPrediction(runtime, model, scan, {
      overlap: Number(ui.overlap.value),
      signal: state.abort.signal,
      onProgress: (done, total) => {
        windowsStarted ||= performance.now();
        const elapsed = (performance.now() - started) / 1000;
        const perWindow = (performance.now() - windowsStarted) / 1000 / Math.max(1, done - 1);
        ui.runProgress.value = done / total;
        ui.runStatus.textContent = `${done} / ${total} windows · ${formatDuration(elapsed)} elapsed · ETA ${done === total ? '0s' : formatDuration(perWindow * (total - done))}`;
      },
    });
    state.result = result;
    ui.runStatus.textContent = `done: ${result.windows} windows in ${result.seconds.toFixed(1)} s; scores ${result.range[0].toFixed(2)} to ${result.range[1].toFixed(2)} (${result.scoreName})`;
    setThresholdSlider(result);
    if (state.viewer) await state.viewer.showOverlay(result.file, anomalyFileName(scan.name), result.range, result.threshold, Number(ui.opacity.value));
  } catch (error) {
    if (state.abort.signal.aborted) ui.runStatus.textContent = 'cancelled';
    else {
      ui.runStatus.textContent = 'failed';
      fail(error);
    }
  } finally {
    state.busy = null;
    state.abort = null;
    refresh();
  }
}

/** The slider runs over the map's range in 1000 steps; its label shows the score. */
function setThresholdSlider(result: PredictionResult): void {
  const [lo, hi] = result.range;
  ui.threshold.value = String(Math.round((1000 * (result.threshold - lo)) / Math.max(hi - lo, 1e-9)));
  ui.thresholdValue.textContent = result.threshold.toFixed(2);
}

function thresholdFromSlider(): number {
  const [lo, hi] = state.result!.range;
  return lo + ((hi - lo) * Number(ui.threshold.value)) / 1000;
}

// ---- training --------------------------------------------------------------------------------------

async function train(): Promise<void> {
  const runtime = state.gpu?.runtime;
  if (!runtime) return;
  const steps = Math.max(1, Math.floor(Number(ui.trainSteps.value) || 1));
  state.busy = 'train';
  state.abort = new AbortController();
  refresh();
  showMessage('');
  const started = performance.now();
  try {
    const cts = [];
    if (ui.trainSource.value === 'phantoms') {
      const count = Math.max(1, Math.floor(Number(ui.trainCount.value) || 1));
      for (let i = 0; i < count; i++) {
        ui.trainStatus.textContent = `generating training phantom ${i + 1} of ${count}…`;
        await nextFrame();
        cts.push(trainingPhantom(Number(ui.phantomSeed.value) + 1000, i));
      }
    } else {
      for (const file of state.trainFiles) {
        ui.trainStatus.textContent = `reading ${file.name}…`;
        await nextFrame();
        const scan = scanFromFile(file.name, await readFileBytes(file));
        cts.push({ name: scan.name, ct: scan.ct });
      }
    }
    ui.trainStatus.textContent = `preprocessing ${cts.length} scan${cts.length > 1 ? 's' : ''}…`;
    await nextFrame();
    const scans = trainingScans(cts);
    let stageStarted = performance.now();
    const bytes = await trainInPage(runtime, scans, {
      steps,
      seed: 0,
      signal: state.abort.signal,
      onStage: (stage: Stage, stages: Stage[]) => {
        if (stage === stages[0]) lossPlot.reset(stages, steps);
        stageStarted = performance.now();
        ui.trainStatus.textContent = `${stage} stage: compiling…`;
      },
      onStep: (record) => {
        lossPlot.add(record);
        const rate = record.step / ((performance.now() - stageStarted) / 1000);
        ui.trainStatus.textContent = `${record.stage} step ${record.step}/${steps} · loss ${record.loss.toPrecision(4)} · ${rate.toFixed(2)} steps/s · ${formatDuration((performance.now() - started) / 1000)} elapsed`;
      },
    });
    const name = `trained-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.safetensors`;
    state.weights = { name, bytes };
    state.library.add(name, bytes, 'trained');
    fillModelSelect(name);
    ui.trainStatus.textContent = `trained in ${formatDuration((performance.now() - started) / 1000)}: ${name} is now the chosen model`;
  } catch (error) {
    if (error instanceof TrainingInterrupted || state.abort.signal.aborted) ui.trainStatus.textContent = 'cancelled';
    else {
      ui.trainStatus.textContent = 'failed';
      fail(error);
    }
  } finally {
    state.busy = null;
    state.abort = null;
    refresh();
  }
}

// ---- files dropped anywhere ------------------------------------------------------------------------

async function openDropped(files: File[]): Promise<void> {
  for (const file of files) {
    if (file.name.toLowerCase().endsWith('.safetensors')) await openModelFile(file);
    else if (NIFTI_NAME.test(file.name)) await openScanFile(file);
    else fail(new DataError(file.name, 'not a scan (.nii, .nii.gz) or a model (.safetensors)'));
  }
}

function wireDragAndDrop(): void {
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    ui.dropOverlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    if (--depth <= 0) ui.dropOverlay.hidden = true;
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    ui.dropOverlay.hidden = true;
    if (state.busy) return fail(new Error('busy: wait for the running job, or cancel it, before dropping files'));
    void openDropped(Array.from(e.dataTransfer?.files ?? []));
  });
}

// ---- start -----------------------------------------------------------------------------------------

function wireControls(): void {
  ui.scanFile.addEventListener('change', () => {
    const file = ui.scanFile.files?.[0];
    ui.scanFile.value = '';
    if (file && state.busy) return fail(new Error(`${file.name}: a job is running; wait for it, or cancel it, first`));
    if (file) void openScanFile(file);
  });
  ui.phantom.addEventListener('click', () => {
    const size = Number(ui.phantomSize.value);
    const seed = Math.max(0, Math.floor(Number(ui.phantomSeed.value) || 0));
    void openScan(() => phantomScan(seed, size), `generating a ${size}-voxel phantom (seed ${seed})`);
  });
  ui.modelSelect.addEventListener('change', () => {
    showModelInfo();
    refresh();
  });
  ui.modelFile.addEventListener('change', () => {
    const file = ui.modelFile.files?.[0];
    ui.modelFile.value = '';
    if (file && state.busy) return fail(new Error(`${file.name}: a job is running; wait for it, or cancel it, first`));
    if (file) void openModelFile(file);
  });
  ui.run.addEventListener('click', () => void run());
  ui.runCancel.addEventListener('click', () => state.abort?.abort());
  ui.opacity.addEventListener('input', () => state.viewer?.setOpacity(Number(ui.opacity.value)));
  ui.threshold.addEventListener('input', () => {
    if (!state.result) return;
    const t = thresholdFromSlider();
    ui.thresholdValue.textContent = t.toFixed(2);
    state.viewer?.setThreshold(t);
  });
  ui.downloadMap.addEventListener('click', () => {
    if (state.result && state.scan) downloadBytes(state.result.file, anomalyFileName(state.scan.name), 'application/gzip');
  });
  ui.trainSource.addEventListener('change', refresh);
  ui.trainFiles.addEventListener('change', () => {
    state.trainFiles = Array.from(ui.trainFiles.files ?? []);
    ui.trainStatus.textContent = `${state.trainFiles.length} scan${state.trainFiles.length === 1 ? '' : 's'} chosen: ${state.trainFiles.map((f) => f.name).join(', ')}`;
    refresh();
  });
  ui.train.addEventListener('click', () => void train());
  ui.trainCancel.addEventListener('click', () => state.abort?.abort());
  ui.downloadWeights.addEventListener('click', () => {
    if (state.weights) downloadBytes(state.weights.bytes, state.weights.name);
  });
  wireDragAndDrop();
}

async function start(): Promise<void> {
  wireControls();
  refresh();
  try {
    state.viewer = await Viewer.create(ui.viewerCanvas);
    state.viewer.onPointer((r) => {
      ui.cursor.textContent = r
        ? `voxel (${r.voxel.join(', ')})  CT ${Math.round(r.hu)} HU${r.score === null ? '' : `  score ${r.score.toFixed(3)}`}`
        : 'move over a slice to read the score';
    });
  } catch (error) {
    fail(`The viewer needs WebGL2, which this browser did not give (${errorText(error)}). Screener can still run; the map can be downloaded.`);
  }
  const [gpu] = await Promise.all([startGpu(), state.library.fetchOffered().catch(fail)]);
  state.gpu = gpu;
  ui.adapter.textContent = gpu.label;
  ui.adapter.className = `badge ${gpu.runtime ? (gpu.software ? 'software' : 'hardware') : 'none'}`;
  if (gpu.problem) {
    ui.gpuMissing.textContent = gpu.problem;
    ui.gpuMissing.hidden = false;
  }
  fillModelSelect(state.library.choices[0]?.name);
  document.body.dataset.ready = 'true';
}

// For automation and the page test: the page's state, read-only by convention.
(window as unknown as { screenerPage: unknown }).screenerPage = {
  get state() {
    return { busy: state.busy, scan: state.scan?.name ?? null, hasOverlay: state.viewer?.hasOverlay ?? false, volumes: state.viewer?.volumeCount ?? 0, errors: [...state.errors], adapter: state.gpu?.label ?? null };
  },
};

void start();
