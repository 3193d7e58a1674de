// `screener serve`: the local web app. Serves the built page (dist/web), the model bundle it imports
// and the models it may load, on 127.0.0.1 unless told otherwise. The page runs Screener on the
// browser's own WebGPU: scans are opened, scored and trained on in the page, never uploaded.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { intOption, stringOption, UsageError } from '../args';
import { findBuilt } from '../built-files';
import { defineCommand } from '../command';
import { DataError } from '../../data/errors';
import { createWebServer, LOOPBACK_HOST_NAMES, modelEntry, modelsInFolder, type ModelEntry } from '../web-server';
import { counted } from '../../data/counted';

export const DEFAULT_PORT = 8080;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const spec = {
  port: { type: 'string', value: 'P', description: 'port to listen on; 0 picks a free one', default: DEFAULT_PORT },
  host: { type: 'string', value: 'H', description: 'address to bind; 127.0.0.1 is this machine only', default: '127.0.0.1' },
  model: {
    type: 'list',
    value: 'M',
    description: 'a .safetensors model to offer first (repeat for more); the shipped models in models/ are offered too',
  },
} as const;

export const serve = defineCommand({
  // Ctrl-C or SIGTERM is how a server is stopped: it closes and ends with 0.
  stopsOnSignal: true,
  name: 'serve',
  summary: 'the web app: open a CT or a phantom, run Screener, view the map, train, on this browser\'s WebGPU',
  synopsis: ['screener serve [--port P] [--host 127.0.0.1] [--model M ...]'],
  options: spec,
  notes: [
    'Open the printed address in a browser with WebGPU (Chrome or Edge 113+; Chromium on Linux: ' +
      '--enable-unsafe-webgpu). The page opens .nii/.nii.gz scans or generates phantoms, runs Screener on the ' +
      'browser\'s GPU, shows the anomaly map over the CT (NiiVue), downloads it as NIfTI, and trains tiny models. ' +
      'Scans stay in the browser: nothing is uploaded, and the page loads nothing from any other origin.',
  ],
  async execute(args) {
    const port = intOption(args, 'port', spec.port.default);
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`);
    const host = stringOption(args, 'host') ?? spec.host.default;
    const webDir = findBuilt('web');
    if (!existsSync(resolve(webDir, 'index.html'))) throw new Error(`the page is not built (no ${webDir}/index.html): run npm run build`);
    const screenerBundle = findBuilt('screener.js');
    const models = offeredModels((args.options.model as string[] | undefined) ?? []);

    // Bound to this machine only, the server also answers only to this machine's own names.
    const allowedHosts = LOOPBACK.has(host) ? LOOPBACK_HOST_NAMES : undefined;
    const server = createWebServer({ webDir, screenerBundle, models, allowedHosts });
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use: pick another with --port`) : error),
      );
      server.listen(port, host, resolvePromise);
    });
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    console.log(`Screener: http://${shownHost}:${bound}/`);
    console.error(`serving ${webDir} and ${counted(models.length, 'model')}${models.length ? ` (${models.map((m) => m.name).join(', ')})` : ''}; Ctrl-C stops`);
    if (!LOOPBACK.has(host)) console.error(`note: bound to ${host}, so other machines can open the page too (scans still stay in each browser)`);

    // Serve until interrupted; then close and exit cleanly.
    await new Promise<void>((resolvePromise) => {
      const stop = () => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
});

/** The --model files first (each must exist), then the shipped models not already named. */
function offeredModels(explicit: string[]): ModelEntry[] {
  const entries: ModelEntry[] = [];
  for (const path of explicit) {
    if (!existsSync(path)) throw new DataError(path, 'no such model file');
    if (!path.endsWith('.safetensors')) throw new UsageError(`--model must be a .safetensors file, got "${path}"`);
    const entry = modelEntry(resolve(path));
    // The page and the URL know a model by its file name, so two --model files may not share one.
    const twin = entries.find((e) => e.name === entry.name);
    if (twin) throw new UsageError(`--model ${path} has the same file name as --model ${twin.path}; rename one`);
    entries.push(entry);
  }
  const shippedDir = existsSync('models') ? resolve('models') : findBuilt('../models');
  for (const path of modelsInFolder(shippedDir)) {
    const entry = modelEntry(path);
    if (!entries.some((e) => e.name === entry.name)) entries.push(entry);
  }
  return entries;
}
