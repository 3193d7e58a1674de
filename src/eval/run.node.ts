// Running an evaluation over a data folder (Node): each case is read and preprocessed once, scored by
// every method, mapped back onto its original grid and kept compactly; then thresholds, metrics,
// per-kind groups, and pictures of the best and worst cases.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSameGrid } from '../data/geometry/mask-checks';
import { listCases, loadCase, type CaseEntry, type LoadedCase } from '../data/io/dataset.node';
import { readNifti, writeFileAtomic, writeNifti } from '../data/io/files.node';
import { HELD_OUT_LESION_KINDS, LESION_KINDS, lesionKindLabel, TRAINING_LESION_KINDS } from '../data/phantom/lesions';
import { PreprocessedCache } from '../data/preprocess/cache.node';
import { preprocessCt, type PreprocessedScan } from '../data/preprocess/preprocess';
import { DataError } from '../data/errors';
import { requirePlausibleCt } from '../data/geometry/plausible-geometry';
import { anomalyOnOriginalGrid } from '../model/predict';
import {
  bestAndWorst,
  compactScores,
  describeThresholdPolicy,
  evaluateMethod,
  expandScores,
  groupMasks,
  thresholdFromCases,
  type EvalCase,
  type KindGroup,
  type MethodResult,
  type ThresholdPolicy,
} from './evaluate';
import { renderOverlay } from '../data/render/overlay';
import { ProgressBar, type ProgressSink } from './progress';
import { firstScorerOf, isCombined, type AnomalyScorer, type EvalMethod } from './scorers';
import { lesionResponse, summariseResponses, type LesionResponse, type LesionResponseValues } from './lesion-response';

export const LESION_KINDS_FILE = 'lesion_kinds.nii.gz';

/** The phantoms' groups: kinds a model trains beside, and the kind held out of training. */
export const PHANTOM_KIND_GROUPS: KindGroup[] = [
  { name: 'trained kinds', labels: TRAINING_LESION_KINDS.map(lesionKindLabel) },
  { name: 'held-out kinds', labels: HELD_OUT_LESION_KINDS.map(lesionKindLabel) },
];

/**
 * The two phantom groups and then every lesion kind on its own ("kind liver_hypodense", ...): which
 * kinds a map finds, and which hold its Dice down, with the same metrics and intervals as the groups.
 */
export const PHANTOM_PER_KIND_GROUPS: KindGroup[] = [
  ...PHANTOM_KIND_GROUPS,
  ...LESION_KINDS.map((kind) => ({ name: `kind ${kind}`, labels: [lesionKindLabel(kind)] })),
];

export interface RunOptions {
  data: string;
  scorers: EvalMethod[];
  /** Cases whose only use is choosing the diceFixed threshold; default: two folds of `data`. */
  thresholdData?: string;
  /** Groups of lesion kinds reported apart, for cases with lesion_kinds.nii.gz; default PHANTOM_KIND_GROUPS. */
  groups?: KindGroup[];
  /** Folder for overlays of each method's best and worst cases. */
  montageDir?: string;
  /** How many best and worst cases to picture per method (default 2). */
  montageCount?: number;
  /** Folder for every case's anomaly map (NIfTI) and overlay (PNG), one subfolder per case. */
  mapsDir?: string;
  progress?: ProgressSink | null;
  /** Folder of the preprocessed-scan cache (repeated evaluations skip preprocessing); none by default. */
  cacheDir?: string;
  /** Evaluate only the first N cases with a lesion mask (sorted by id). */
  limit?: number;
  /**
   * Take a case's map from `mapsDir` when an earlier run wrote it (the maps of a case are written
   * only once every method has scored it), so an interrupted evaluation goes on where it stopped.
   */
  resume?: boolean;
  /** Score scans whose voxel size or extent is not a CT's instead of listing them as failed. */
  forceGeometry?: boolean;
  /**
   * The folder the lesions were inserted into (`insert-lesions --data`): each case's scan there (same
   * case id, same grid) is scored too, for every method's lesion presence and placement (lesion-response.ts).
   */
  sourceData?: string;
}

/** A case that could not be scored (unreadable scan, mask on another grid, ...), and why. */
export interface FailedCase {
  id: string;
  error: string;
}

export interface RunResult {
  methods: MethodResult[];
  thresholdSelection: string;
  cases: number;
  /** Cases left out because they failed; the others are scored all the same. */
  failed: FailedCase[];
  /** Cases whose maps were taken from an earlier run (resume). */
  reused: number;
  /** Files written (maps, overlays, montages). */
  written: string[];
}

interface LoadedEvalCase extends EvalCase {
  entry: CaseEntry;
}

function lesionCases(root: string, limit = Infinity): CaseEntry[] {
  const entries = listCases(root).filter((e) => e.lesionPath);
  if (entries.length === 0) throw new DataError(root, 'no case folder with a lesion mask (lesion.nii.gz) to evaluate on');
  return entries.slice(0, limit);
}

function readKinds(entry: CaseEntry, ct: { shape: [number, number, number]; spacing: [number, number, number]; affine: Float64Array }): Uint8Array | undefined {
  const path = join(entry.dir, LESION_KINDS_FILE);
  if (!existsSync(path)) return undefined;
  const kinds = readNifti(path);
  checkSameGrid(kinds, path, { ...ct, data: new Uint8Array(0) }, entry.ctPath);
  return Uint8Array.from(kinds.data);
}

/** A file-name-safe form of a case id ("openkbp-val/pt_201" -> "openkbp-val_pt_201"). */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Scores every lesion case of `root` with every scorer. Returns the cases (ground truth on the original
 * grid) and, per scorer, the compact body scores and seconds per case.
 */
interface ScoreFolderOptions {
  label: string;
  /** The scans without lesions, by case id, scored beside each case (RunOptions.sourceData), and the kind groups to answer for. */
  sources?: { root: string; entries: Map<string, CaseEntry>; groups: KindGroup[] };
  progress: ProgressSink | null;
  cacheDir?: string;
  limit?: number;
  forceGeometry?: boolean;
  /** Called with each case's maps once every scorer has scored it. */
  onMap?: (c: LoadedEvalCase, scorer: EvalMethod, anomaly: Float32Array, ct: ReturnType<typeof loadCase>['ct']) => void;
  /** A map an earlier run wrote for this case and scorer, to take instead of scoring (resume). */
  storedMap?: (id: string, scorer: EvalMethod) => string | null;
}

async function scoreFolder(
  root: string,
  scorers: EvalMethod[],
  { label, progress, cacheDir, limit, forceGeometry = false, onMap, storedMap, sources }: ScoreFolderOptions,
): Promise<{ cases: LoadedEvalCase[]; scores: Float32Array[][]; seconds: number[][]; responses: LesionResponse[][]; failed: FailedCase[]; reused: number }> {
  const entries = lesionCases(root, limit);
  const cases: LoadedEvalCase[] = [];
  const scores: Float32Array[][] = scorers.map(() => []);
  const seconds: number[][] = scorers.map(() => []);
  const responses: LesionResponse[][] = scorers.map(() => []);
  const failed: FailedCase[] = [];
  let reused = 0;
  const bar = new ProgressBar(progress, label, 'scans');
  // Each case is scored by every method, and once more without its lesions when the sources are given.
  const perCase = scorers.length * (sources ? 2 : 1);
  const total = entries.length * perCase;
  for (const [k, entry] of entries.entries()) {
    try {
      const scored = await scoreCase(entry, k);
      cases.push(scored.evalCase);
      scored.scores.forEach((s, i) => scores[i]!.push(s));
      scored.seconds.forEach((s, i) => seconds[i]!.push(s));
      scored.responses?.forEach((r, i) => responses[i]!.push(r));
    } catch (error) {
      // One bad case must not cost the others: it is reported and left out.
      const message = error instanceof Error ? error.message : String(error);
      failed.push({ id: entry.id, error: message });
      progress?.write(`${label}: ${entry.id} failed: ${message}\n`);
    }
  }
  return { cases, scores, seconds, responses, failed, reused };

  /** Every scorer on one case; nothing of the case is kept unless all of them succeed. */
  async function scoreCase(
    entry: CaseEntry,
    k: number,
  ): Promise<{ evalCase: LoadedEvalCase; scores: Float32Array[]; seconds: number[]; responses?: LesionResponse[] }> {
    const caseScores: Float32Array[] = [];
    const caseSeconds: number[] = [];
    const maps: Float32Array[] = [];
    const stored = scorers.map((scorer) => storedMap?.(entry.id, scorer) ?? null);
    const loaded = loadCase(entry);
    requirePlausibleCt(loaded.ct, entry.ctPath, forceGeometry);
    const kinds = readKinds(entry, loaded.ct);
    const scans = new Map<string, PreprocessedScan>();
    // Every method is scored over the same voxels: the body of the first method's preprocessing.
    const evalCase: LoadedEvalCase = {
      entry,
      id: entry.id,
      shape: loaded.ct.shape,
      body: preprocessedOnce(scans, loaded, firstScorerOf(scorers[0]!)).originalBody.data,
      lesion: loaded.lesion!.data,
      ...(kinds ? { kinds } : {}),
    };
    const onGrid = new Map<AnomalyScorer, Float32Array>();
    for (const [s, scorer] of scorers.entries()) {
      const started = performance.now();
      const done = k * perCase + s;
      let anomaly: Float32Array;
      if (stored[s]) {
        anomaly = readStoredMap(stored[s]!, loaded.ct, entry.ctPath).data;
        if (!isCombined(scorer)) onGrid.set(scorer, anomaly);
      } else {
        anomaly = await mapOf(scorer, onGrid, scans, loaded, evalCase.body, done);
      }
      caseScores.push(compactScores(anomaly, evalCase.body));
      caseSeconds.push((performance.now() - started) / 1000);
      maps.push(anomaly);
      bar.update(done + 1, total, `${entry.id} ${scorer.name}`);
    }
    // Written only once every method has scored the case, so a failed case leaves no maps behind.
    if (onMap) scorers.forEach((scorer, s) => stored[s] || onMap(evalCase, scorer, maps[s]!, loaded.ct));
    if (stored.some(Boolean)) reused++;
    const responses = sources ? await scoreWithoutLesions(evalCase, maps) : undefined;
    return { evalCase, scores: caseScores, seconds: caseSeconds, ...(responses ? { responses } : {}) };

    /**
     * A method's map on the original grid: a scorer's scored once per case (kept in `onGrid` for the
     * combinations that use it), a combination's made from its parts' maps.
     */
    async function mapOf(method: EvalMethod, onGrid: Map<AnomalyScorer, Float32Array>, scans: Map<string, PreprocessedScan>, from: LoadedCase, body: Uint8Array, done: number, what = entry.id): Promise<Float32Array> {
      if (isCombined(method)) {
        const parts: Float32Array[] = [];
        for (const part of method.parts) parts.push(await mapOf(part, onGrid, scans, from, body, done, what));
        return method.combine(parts, body);
      }
      let map = onGrid.get(method);
      if (!map) {
        const scan = preprocessedOnce(scans, from, method);
        const scored = await method.score(scan, (w, n) => bar.update(done, total, `${what} ${method.name}: window ${w}/${n}`));
        map = anomalyOnOriginalGrid(scored.map, scan).anomaly.data;
        onGrid.set(method, map);
      }
      return map;
    }

    /** Every scorer on the case's scan without lesions, over the same body voxels: presence and placement. */
    async function scoreWithoutLesions(c: LoadedEvalCase, withLesions: Float32Array[]): Promise<LesionResponse[]> {
      const source = sources!.entries.get(entry.id);
      if (!source) throw new DataError(join(sources!.root, entry.id), `no scan of case ${entry.id} here to score it without its lesions (the source folder given)`);
      const sourceCase = loadCase(source);
      const ct = sourceCase.ct;
      checkSameGrid(ct, source.ctPath, { ...loaded.ct, data: new Uint8Array(0) }, entry.ctPath);
      requirePlausibleCt(ct, source.ctPath, forceGeometry);
      const sourceScans = new Map<string, PreprocessedScan>();
      const sourceOnGrid = new Map<AnomalyScorer, Float32Array>();
      const out: LesionResponse[] = [];
      for (const [s, scorer] of scorers.entries()) {
        const done = k * perCase + scorers.length + s;
        const anomaly = await mapOf(scorer, sourceOnGrid, sourceScans, sourceCase, c.body, done, `${entry.id} without lesions`);
        out.push(responseOf(withLesions[s]!, anomaly));
        bar.update(done + 1, total, `${entry.id} without lesions ${scorer.name}`);
      }
      return out;

      function responseOf(withLesion: Float32Array, withoutLesion: Float32Array): LesionResponse {
        const overall = lesionResponse(withLesion, withoutLesion, c.lesion, c.body);
        const groups: Record<string, LesionResponseValues> = {};
        for (const g of sources!.groups) {
          const masks = groupMasks(c, g);
          if (masks) groups[g.name] = lesionResponse(withLesion, withoutLesion, masks.lesion, masks.body);
        }
        return Object.keys(groups).length ? { ...overall, groups } : overall;
      }
    }
  }

  /** A scan preprocessed as a scorer needs, once per distinct preprocessing (through the cache when given). */
  function preprocessedOnce(scans: Map<string, PreprocessedScan>, loaded: LoadedCase, scorer: AnomalyScorer): PreprocessedScan {
    const key = JSON.stringify(scorer.preprocess);
    let scan = scans.get(key);
    if (!scan) {
      const { entry, ct } = loaded;
      scan = cacheDir ? new PreprocessedCache(cacheDir, scorer.preprocess, forceGeometry).get(entry, loaded).scan : preprocessCt(ct, entry.ctPath, scorer.preprocess);
      scans.set(key, scan);
    }
    return scan;
  }
}

/** The file beside the maps that says which method made them. */
export const MAP_METHODS_FILE = 'methods.json';

/**
 * Keeps, beside the maps, what each method's maps depend on. A resumed run must be the same methods:
 * maps of another model, overlap or baseline fit are never mixed into one result.
 */
function recordMapMethods(mapsDir: string, scorers: EvalMethod[], resume: boolean): void {
  const path = join(mapsDir, MAP_METHODS_FILE);
  const now: Record<string, string> = Object.fromEntries(scorers.map((s) => [s.name, s.identity]));
  if (resume && existsSync(path)) {
    let before: Record<string, string>;
    try {
      before = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      throw new DataError(path, 'is not the JSON an evaluation writes; --resume cannot tell which methods made these maps');
    }
    for (const [name, identity] of Object.entries(now)) {
      if (name in before && before[name] !== identity) {
        throw new DataError(path, `--resume: the ${name} maps here were made by "${before[name]}", not by "${identity}"; use another --maps folder, or leave out --resume`);
      }
    }
    Object.assign(now, { ...before, ...now });
  } else if (resume && existsSync(mapsDir) && readdirSync(mapsDir, { withFileTypes: true }).some((e) => e.isDirectory())) {
    throw new DataError(path, '--resume: no record of which methods made the maps in this folder; leave out --resume');
  }
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(now, null, 2) + '\n'));
}

/** A map an earlier run wrote for a case, checked to lie on the case's CT grid. */
function readStoredMap(path: string, ct: { shape: [number, number, number]; spacing: [number, number, number]; affine: Float64Array }, ctPath: string): { data: Float32Array } {
  const map = readNifti(path);
  checkSameGrid(map, path, { ...ct, data: new Uint8Array(0) }, ctPath);
  return { data: Float32Array.from(map.data) };
}

export async function runEvaluation(options: RunOptions): Promise<RunResult> {
  const { scorers } = options;
  if (scorers.length === 0) throw new Error('runEvaluation: no method to evaluate');
  const progress = options.progress ?? null;
  const written: string[] = [];
  const write = (path: string, fn: (p: string) => void) => {
    fn(path);
    written.push(path);
  };

  const onMap = options.mapsDir
    ? (c: LoadedEvalCase, scorer: EvalMethod, anomaly: Float32Array, ct: ReturnType<typeof loadCase>['ct']) => {
        const dir = join(options.mapsDir!, safeName(c.id));
        write(mapPath(c.id, scorer), (p) => writeNifti(p, { ...ct, data: anomaly }, { datatype: 'float32', description: `screener anomaly (${scorer.name})` }));
        const picture = renderOverlay(ct, anomaly, { lesion: c.lesion, body: c.body });
        write(join(dir, `${scorer.name}.png`), (p) => writeFileAtomic(p, picture.toPng()));
      }
    : undefined;
  const mapPath = (id: string, scorer: EvalMethod) => join(options.mapsDir!, safeName(id), `${scorer.name}.nii.gz`);
  if (options.mapsDir) recordMapMethods(options.mapsDir, scorers, options.resume === true);
  const storedMap = options.resume && options.mapsDir ? (id: string, scorer: EvalMethod) => (existsSync(mapPath(id, scorer)) ? mapPath(id, scorer) : null) : undefined;
  const common = { progress, cacheDir: options.cacheDir, forceGeometry: options.forceGeometry };
  // Kind groups apply only to cases with lesion kinds (groupMasks gives nothing for the others).
  const kindGroups = options.groups ?? PHANTOM_KIND_GROUPS;
  const sources = options.sourceData
    ? { root: options.sourceData, entries: new Map(listCases(options.sourceData).map((e) => [e.id, e])), groups: kindGroups }
    : undefined;
  const scored = await scoreFolder(options.data, scorers, { ...common, label: 'eval', limit: options.limit, onMap, storedMap, sources });
  if (scored.cases.length === 0) {
    throw new DataError(options.data, `no case could be scored:\n${scored.failed.map((f) => `  ${f.id}: ${f.error}`).join('\n')}`);
  }

  // Thresholds: from separate data when given, else from the other fold of the same data.
  const policies: ThresholdPolicy[] = scorers.map(() => ({ kind: 'split' }));
  const failed = [...scored.failed];
  if (options.thresholdData) {
    const held = await scoreFolder(options.thresholdData, scorers, { ...common, label: 'threshold cases' });
    failed.push(...held.failed.map((f) => ({ ...f, id: `${options.thresholdData}: ${f.id}` })));
    for (const s of scorers.keys()) {
      policies[s] = { kind: 'given', threshold: thresholdFromCases(held.cases, held.scores[s]!), source: `${held.cases.length} cases of ${options.thresholdData}` };
    }
  }

  const anyKinds = scored.cases.some((c) => c.kinds);
  const groups = anyKinds ? kindGroups : [];
  const methods = scorers.map((scorer, s) => {
    const method = evaluateMethod(scorer, scored.cases, scored.scores[s]!, policies[s]!, { groups, seconds: scored.seconds[s]! });
    if (!sources) return method;
    const responses = scored.responses[s]!;
    method.cases.forEach((c, i) => {
      const { groups: byGroup, ...overall } = responses[i]!;
      Object.assign(c, overall);
      for (const [g, values] of Object.entries(byGroup ?? {})) if (c.groups?.[g]) Object.assign(c.groups[g]!, values);
    });
    return { ...method, response: summariseResponses(responses) };
  });

  if (options.montageDir) {
    const count = options.montageCount ?? 2;
    for (const [s, method] of methods.entries()) {
      const { best, worst } = bestAndWorst(method, count);
      for (const [rank, list] of [['best', best], ['worst', worst]] as const) {
        for (const [i, r] of list.entries()) {
          const k = scored.cases.findIndex((c) => c.id === r.id);
          const c = scored.cases[k]!;
          const ct = readNifti(c.entry.ctPath);
          const picture = renderOverlay(ct, expandScores(scored.scores[s]![k]!, c.body), { lesion: c.lesion, body: c.body });
          const name = `${safeName(method.name)}-${rank}${i + 1}-${safeName(c.id)}-auroc${r.auroc!.toFixed(3)}.png`;
          write(join(options.montageDir, name), (p) => writeFileAtomic(p, picture.toPng()));
        }
      }
    }
  }
  const thresholdSelection = describeThresholdPolicy(policies[0]!);
  return { methods, thresholdSelection, cases: scored.cases.length, failed, reused: scored.reused, written };
}
