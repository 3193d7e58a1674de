// What callers need to know of a model, in Node and in pages alike: the preprocessing it was trained
// with and a one-line description for reports, the page and its model list.
import { anomalyScoreOf, bankSizeOf, mapSmoothingOf, type ScreenerConfig } from './config';
import type { Screener } from './screener';

/** "small preset, masked condition, flow density, 32x32x32 windows at 2.5x2.5x2.5 mm" (and a knn density's bank size, a HU window other than the paper's, a score other than the NLL, the map's smoothing). */
export function describeConfig(c: ScreenerConfig): string {
  const window = c.huWindow ? `, HU window ${c.huWindow[0]} to ${c.huWindow[1]}` : '';
  const score = anomalyScoreOf(c) === 'latent' ? ', latent-energy score' : '';
  const smoothing = mapSmoothingOf(c) > 0 ? `, map smoothed ${mapSmoothingOf(c)} mm` : '';
  const bank = c.density.kind === 'knn' ? ` (bank of ${bankSizeOf(c)})` : '';
  return `${c.preset} preset, ${c.density.condition} condition, ${c.density.kind} density${bank}, ${c.train.cropSize.join('x')} windows at ${c.targetSpacing.join('x')} mm${window}${score}${smoothing}`;
}

export function describeScreener(model: Screener): string {
  return describeConfig(model.config);
}
