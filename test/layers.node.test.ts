// The layering of DESIGN.md, checked on the source: every file under src/ imports only from its own
// layer and the layers above it, the engine (src/gpu, src/kernels, src/graph) imports nothing from
// Node or npm but what its host adapter and its shader templating need, and no two files import each
// other, directly or round a longer loop (type-only imports count: they couple the files as much).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Top to bottom; a file may import from its own layer and the ones before it. */
const LAYERS = ['src/gpu', 'src/kernels', 'src/graph', 'src/data', 'src/model', 'src/train', 'src/eval', 'src/web', 'src/cli'];
/** The bundles' entry files, each sitting below the layers it gathers. */
const ENTRIES: Record<string, number> = { 'src/engine.ts': LAYERS.indexOf('src/graph'), 'src/screener.ts': LAYERS.indexOf('src/eval') };
const ENGINE = LAYERS.slice(0, 3);
/** What the engine may import from outside the repository, and where. */
const ENGINE_PACKAGES: Record<string, RegExp> = { 'src/gpu/node.ts': /^(webgpu|node:.*)$/, 'src/gpu/shader.ts': /^wgsl-preprocessor\// };

const files = readdirSync('src', { recursive: true })
  .map((f) => `src/${String(f).split('\\').join('/')}`)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const known = new Set(files);
const IMPORT = /(?:^|[\s;])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Each file's imports: repository paths for relative ones (a .ts file or a folder's index.ts), else the specifier. */
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const specs = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    return [
      file,
      specs.map((spec) => {
        if (!spec.startsWith('.')) return spec;
        const base = normalize(join(dirname(file), spec)).split('\\').join('/').replace(/\.js$/, '');
        return [`${base}.ts`, `${base}/index.ts`].find((c) => known.has(c)) ?? base;
      }),
    ] as const;
  }),
);

function layerOf(file: string): number {
  if (file in ENTRIES) return ENTRIES[file]!;
  return LAYERS.findIndex((l) => file.startsWith(`${l}/`));
}

describe('layers', () => {
  it('finds the source and its imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(imports.get('src/graph/ops/conv.ts')).toContain('src/kernels/conv3d/index.ts');
    expect(files.every((f) => layerOf(f) >= 0)).toBe(true);
  });

  it('has no import from a layer below the importing file', () => {
    const upward = [...imports].flatMap(([file, deps]) =>
      deps.filter((d) => known.has(d) && (layerOf(d) > layerOf(file) || d in ENTRIES && !(file.startsWith('src/web/') && d === 'src/screener.ts'))).map((d) => `${file} -> ${d}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps the engine free of Node and npm imports but its host adapter and shader templating', () => {
    const outside = [...imports]
      .filter(([file]) => ENGINE.some((l) => file.startsWith(`${l}/`)))
      .flatMap(([file, deps]) => deps.filter((d) => !d.startsWith('src/') && !d.endsWith('.wgsl') && !ENGINE_PACKAGES[file]?.test(d)).map((d) => `${file} -> ${d}`));
    expect(outside).toEqual([]);
  });

  it('has no cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const d of imports.get(file) ?? []) {
        if (!known.has(d)) continue;
        if (state.get(d) === 'open') cycles.push([...path.slice(path.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
