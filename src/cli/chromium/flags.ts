// How this project starts the system Chromium headless with WebGPU: the command line's
// `--runtime chromium` and the tests that open pages use the same browser and flags (test/browser/run.mjs,
// plain JavaScript, keeps its own copy of the list).

/** The browser: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. Never one that puppeteer downloads. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

// --enable-unsafe-webgpu turns WebGPU on (with no GPU Chromium picks SwiftShader's Vulkan adapter by
// itself); --enable-unsafe-swiftshader lets WebGL (the viewer's) and WebGPU fall back to SwiftShader
// where the GPU is refused; the rest keeps Chromium off the network.
export const HEADLESS_WEBGPU_FLAGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The flags, plus --no-sandbox when running as root (Chromium refuses to start as root otherwise). */
export function chromiumArgs(): string[] {
  return [...HEADLESS_WEBGPU_FLAGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
}
