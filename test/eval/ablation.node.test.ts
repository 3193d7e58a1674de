// The ablation grid's table order: the paper's cells row by row, a model outside the grid last.
import { describe, expect, it } from 'vitest';
import { ablationOrder, ABLATION_CONDITIONS, ABLATION_DENSITIES } from '../../src/eval/ablation.node';

describe('ablationOrder', () => {
  it('puts the grid cells in row order and a knn model after all of them', () => {
    const cells = ABLATION_CONDITIONS.flatMap((c) => ABLATION_DENSITIES.map((d) => ablationOrder(c, d)));
    expect(cells).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ablationOrder('none', 'knn')).toBeGreaterThan(Math.max(...cells));
  });
});
