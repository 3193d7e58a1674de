// The quality benchmark's recipe options: a knn bank size or descriptor steps off the default name the
// recipe's folder (so different models never share results) and reach the config.
import { describe, expect, it } from 'vitest';
import { parseRecipe, recipeConfig, recipeName } from '../../bench/quality/recipe';
import { bankSizeOf } from '../../src/model/config';

const recipe = (options: Record<string, string>) => parseRecipe({ options, positionals: [], help: false });

describe('quality benchmark recipe', () => {
  it('keeps a knn bank size in the recipe name and config, and the default out of the name', () => {
    const plain = recipe({ density: 'knn' });
    expect(recipeName(plain)).toBe('tiny-4mm-pool2-knn-none-300');
    expect(bankSizeOf(recipeConfig(plain))).toBe(4096);
    expect(recipeName(recipe({ density: 'knn', 'bank-size': '4096' }))).toBe('tiny-4mm-pool2-knn-none-300');
    const large = recipe({ density: 'knn', 'bank-size': '16384', colour: '0.3' });
    expect(recipeName(large)).toBe('tiny-4mm-pool2-knn-none-300-colour0.3-bank16384');
    expect(recipeConfig(large).density).toMatchObject({ kind: 'knn', condition: 'none', bankSize: 16384 });
  });

  it('trains the descriptor for --descriptor-steps and names the recipe by them only when they differ', () => {
    const shipped = recipe({ density: 'knn', preset: 'small', colour: '0.3', 'descriptor-steps': '3000' });
    expect(recipeName(shipped)).toBe('small-4mm-pool2-knn-none-300-descriptor3000-colour0.3');
    expect(recipeConfig(shipped).train.steps).toEqual({ descriptor: 3000, condition: 300, density: 300 });
    const same = recipe({ density: 'knn', steps: '50', 'descriptor-steps': '50' });
    expect(recipeName(same)).toBe('tiny-4mm-pool2-knn-none-50');
    expect(recipeConfig(same).train.steps).toEqual({ descriptor: 50, condition: 50, density: 50 });
    expect(() => recipe({ 'descriptor-steps': '0' })).toThrow(/--descriptor-steps/);
  });
});
