// What callers need to know of a model, in Node and in pages alike: the preprocessing it was trained
// with and a one-line description for reports, the page and its model list.
import { anomalyScoreOf, bankSizeOf, knnReferenceOf, mapSmoothingOf, SCAN_REFERENCE_ROWS, scanReferenceRowsOf, type ScreenerConfig } from './config';
import { SCAN_REFERENCE_APART_MM } from './scan-reference';
import type { Screener } from './screener';

/** "small preset, masked condition, flow density, 32x32x32 windows at 2.5x2.5x2.5 mm" (and what a knn density compares with, a HU window other than the paper's, a score other than the NLL, the map's smoothing). */
export function describeConfig(c: ScreenerConfig): string {
  const window = c.huWindow ? `, HU window ${c.huWindow[0]} to ${c.huWindow[1]}` : '';
  const score = anomalyScoreOf(c) === 'latent' ? ', latent-energy score' : '';
  const smoothing = mapSmoothingOf(c) > 0 ? `, map smoothed ${mapSmoothingOf(c)} mm` : '';
  const rows = scanReferenceRowsOf(c);
  const scan = `${rows >= SCAN_REFERENCE_ROWS ? 'the' : `at most ${rows} of the`} scan's own cells ${SCAN_REFERENCE_APART_MM} mm away`;
  const reference = { bank: `bank of ${bankSizeOf(c)}`, scan, both: `bank of ${bankSizeOf(c)} or ${scan}` }[knnReferenceOf(c)];
  const bank = c.density.kind === 'knn' ? ` (${reference})` : '';
  return `${c.preset} preset, ${c.density.condition} condition, ${c.density.kind} density${bank}, ${c.train.cropSize.join('x')} windows at ${c.targetSpacing.join('x')} mm${window}${score}${smoothing}`;
}

export function describeScreener(model: Screener): string {
  return describeConfig(model.config);
}
