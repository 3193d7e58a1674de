// The model side for pages: dist/screener.js bundles this file (engine included) into one ES module
// with no imports. It is the same code the `screener` command runs; the Node-only parts (files,
// folders, caches, Dawn) live in *.node.ts files and src/cli, and none of them is reachable from here.
//
//   NIfTI from bytes (gzip included)  decodeNifti, encodeNifti
//   preprocessing                     preprocessCt, toOriginalGrid
//   prediction                        predictScan (sliding windows, batches, Gaussian blending), encodeAnomalyMap
//   models                            Screener.fromSafetensors / toSafetensors, describeScreener, configPreprocessing (what a model expects of a scan)
//   training in memory                ScreenerTrainer, trainingScanFromCt, demoTrainingConfig
//   a whole training run              driveTraining (files through RunFiles: `train --runtime chromium`)
//   phantoms                          generatePhantom, generatePhantomCase
//   a device                          browserRuntime (navigator.gpu), runtimeFromGPU (any WebGPU)

// A device.
export { browserGPU, browserRuntime } from './gpu/browser';
export { adapterName, describeAdapter, type AdapterReport } from './gpu/adapter';
export { runtimeFromGPU } from './gpu/open-runtime';
export type { Runtime } from './gpu/runtime';

// Scans.
export { DataError } from './data/errors';
export { decodeNifti, encodeNifti, isGzip, type EncodeOptions, type NiftiVolume } from './data/io/nifti';
export { DEFAULT_PREPROCESS, preprocessCt, toOriginalGrid, type PreprocessedScan, type PreprocessOptions } from './data/preprocess/preprocess';
export { formatShape, valueRange, voxelCount, type Shape3, type Vec3, type Volume, type VoxelArray } from './data/geometry/volume';
export { plausibleCtProblem } from './data/geometry/plausible-geometry';

// Phantoms.
export { generatePhantomCase, phantomCaseName, phantomCaseSeed, type PhantomSetOptions } from './data/phantom/cases';
export { HELD_OUT_LESION_KINDS, LESION_KINDS, TRAINING_LESION_KINDS, type LesionKind } from './data/phantom/lesions';
export { generatePhantom, type Phantom, type PhantomOptions } from './data/phantom/phantom';

// The model.
export { ANOMALY_SCORES, anomalyOptionsOf, anomalyScoreOf, configPreprocessing, mapSmoothingOf, MAX_MAP_SMOOTHING_MM, type AnomalyOptions, PRESETS, presetConfig, STAGES, withDensity, withTargetSpacing, type AnomalyScore, KNN_REFERENCES, knnReferenceOf, type KnnReference, type ScreenerConfig, type Stage } from './model/config';
export { validateConfig } from './model/validate-config';
export { describeConfig, describeScreener } from './model/describe';
export { ANOMALY_DESCRIPTION, anomalyDescription, anomalyFileOptionsOf, anomalyScoreName, encodeAnomalyMap } from './model/anomaly-file';
export { anomalyOnOriginalGrid, defaultWindowBatch, predictImageOf, predictPreprocessed, predictScan, type PredictImage, type PredictOptions, type ScanPrediction } from './model/predict';
export type { CutFaces } from './model/cut-face-padding';
export { decodeSafetensors, encodeSafetensors, type SafetensorsContents } from './model/safetensors';
export { METADATA_FORMAT, Screener, screenerConfigOf } from './model/screener';
export { readScreenerWeights, withAnomalyOptions, type ScreenerWeights } from './model/weights';
export { placeWindows } from './model/window-placement';

// Training.
export { lossesCsv } from './train/curves';
export { CHECKPOINT_SUFFIX, driveTraining, trainPaths, type RunFiles, type TrainPaths, type TrainRunOptions, type TrainRunResult } from './train/run';
export { DEMO_TRAIN_SPACING_MM, demoTrainingConfig } from './train/demo-config';
export { formatDuration } from './train/progress';
export { trainingScanFromCt, type TrainingScan } from './train/scans';
export { NonFiniteLossError, ScreenerTrainer, TrainingInterrupted, type LossRecord, type TrainingPosition } from './train/trainer';
