// The quality benchmark's recipe options: a knn bank size off the default names the recipe's folder
// (so models with different banks never share results) and reaches the density's config.
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
});
