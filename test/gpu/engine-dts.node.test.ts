// dist/engine.d.ts is what TypeScript programs that embed dist/engine.js compile against. A small
// consumer, held in memory beside this file, is type-checked against it the way such a program would
// be: strict, browser libraries only, no project sources and no Node types, library checks on.
import { existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import pinned from './engine-exports.json';

const CONSUMER = path.resolve('test/gpu/__engine_consumer__.ts');

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  isolatedModules: true,
  skipLibCheck: false,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [], // @webgpu/types must come from engine.d.ts's own reference
};

// Uses the API as a program would: a two-layer conv net trained with AdamW, a kernel launcher, and
// lines that must NOT compile (@ts-expect-error fails when its line has no error, so types that
// degraded to `any` fail this test).
const USAGE = `
import {
  Activation, AdamW, backward, browserRuntime, Conv3d, fromArray, mean, Sequential, square, sub, tidy,
  kernels, type Runtime, type Tensor,
} from '../../dist/engine.js';

export async function train(steps: number): Promise<number[]> {
  const runtime: Runtime = await browserRuntime();
  const net = new Sequential(new Conv3d(runtime, 1, 4, 3, { padding: 1, seed: 1 }), new Activation('relu'), new Conv3d(runtime, 4, 1, 3, { padding: 1, seed: 2 }));
  const optimizer = new AdamW(net.parameters(), { lr: 0.05 });
  const x: Tensor = fromArray(runtime, new Float32Array(27), [1, 3, 3, 3, 1]);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const value = mean(square(sub(net.forward(x), x)));
      backward(value);
      optimizer.step();
      return value;
    });
    losses.push(await loss.item());
    loss.dispose();
    optimizer.zeroGrad();
  }
  const ceilings: kernels.Ceilings = await kernels.measureCeilings(runtime);
  const device: GPUDevice = runtime.device;
  void ceilings; void device;
  // @ts-expect-error a shape is a list of numbers
  fromArray(runtime, [1], '1');
  // @ts-expect-error Conv3d needs the runtime first
  new Conv3d(1, 4, 3);
  return losses;
}

// @ts-expect-error the per-file namespaces inside engine.d.ts are private
import { __graph_tensor } from '../../dist/engine.js';
`;

function compile(text: string): string[] {
  const host = ts.createCompilerHost(OPTIONS);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => f === CONSUMER || fileExists.call(host, f);
  host.readFile = (f) => (f === CONSUMER ? text : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === CONSUMER ? ts.createSourceFile(f, text, lang, true) : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram([CONSUMER], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('dist/engine.d.ts', () => {
  it('is one self-contained file of declarations: no imports of anything', () => {
    expect(existsSync('dist/engine.d.ts'), 'run npm run build first').toBe(true);
    const program = ts.createProgram(['dist/engine.d.ts'], { ...OPTIONS, noResolve: true });
    const file = program.getSourceFile('dist/engine.d.ts')!;
    expect(file.isDeclarationFile).toBe(true);
    const imports = file.statements.filter((s) => ts.isImportDeclaration(s) || (ts.isExportDeclaration(s) && s.moduleSpecifier));
    expect(imports.map((s) => s.getText(file))).toEqual([]);
    expect(file.text).not.toMatch(/\bimport\(/);
    expect(file.typeReferenceDirectives.map((r) => r.fileName)).toEqual(['@webgpu/types']);
  });

  it('types a program that trains with the engine, and rejects wrong calls', () => {
    expect(compile(USAGE)).toEqual([]);
  });

  it('declares every export of dist/engine.js', () => {
    // Each pinned runtime name used as a value: a name missing from the declarations is an error.
    const uses = pinned.map((name, i) => `export const use${i} = engine.${name};`).join('\n');
    expect(compile(`import * as engine from '../../dist/engine.js';\n${uses}\n`)).toEqual([]);
  });
});
