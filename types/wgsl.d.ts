// WGSL sources are imported as text by esbuild (loader "text") and by vitest (see vitest.config.ts).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  export function wgsl(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): string;
}
