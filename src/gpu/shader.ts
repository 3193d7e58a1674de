// Shader source handling: `#if NAME` blocks resolved by wgsl-preprocessor, plus a shared prelude.
//
// Shader files use `#if NAME` / `#elif NAME` / `#else` / `#endif` where NAME is a define the launcher
// passes. wgsl-preprocessor works on template literals, so the file text is cut at each `#if NAME`
// into the strings/values pair a template tag would receive.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import prelude from '../../shaders/prelude.wgsl';

export type Defines = Record<string, boolean | number | undefined>;

const conditional = /(#(?:if|elif))\s+([A-Za-z_][A-Za-z0-9_]*)/g;

export function preprocess(source: string, defines: Defines = {}): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const match of source.matchAll(conditional)) {
    const name = match[2]!;
    strings.push(source.slice(last, match.index) + match[1] + ' ');
    values.push(Boolean(defines[name]));
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  return wgsl(strings, ...values);
}

/**
 * A generated kernel's text: every `//@NAME` line of `skeleton` replaced by `parts[NAME]`. A line with
 * no part is an error naming `generator`, so a skeleton and its code generator cannot drift apart.
 */
export function fillSkeleton(skeleton: string, parts: Readonly<Record<string, string>>, generator: string): string {
  return skeleton.replace(/^\/\/@([A-Z_]+)\s*$/gm, (_, name: string) => {
    const part = parts[name];
    if (part === undefined) throw new Error(`${generator}: no code for //@${name}`);
    return part;
  });
}

/** The full text of a kernel: the prelude (workgroup folding helpers) followed by the kernel. */
export function kernelSource(source: string, defines: Defines = {}): string {
  return `${prelude}\n${preprocess(source, defines)}`;
}
