// The local web app's server (`screener serve`): Node's own http module, GET and HEAD only, serving
//   /                 the page (dist/web/index.html) and the files beside it (app.js, app.css, maps)
//   /screener.js      the model bundle the page imports (dist/screener.js, and its .map)
//   /api/models       the models the page may load, as JSON
//   /models/NAME      one of those models, by name: only names on that list are served
// Paths are decoded once and every segment checked: "..", ".", backslashes, NUL bytes and malformed
// escapes are refused before any file is looked up, and a file must still lie inside the page's
// folder after symbolic links are resolved. The Content-Security-Policy lets the page load and
// connect to its own origin only, so a scan opened in it cannot be sent anywhere, even by mistake.
import { createReadStream, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import http from 'node:http';
import { basename, extname, join, sep } from 'node:path';
import { describeConfig } from '../model/describe';
import { screenerConfigOf } from '../model/screener';
import { readFileBytes } from '../data/io/files.node';
import { CHECKPOINT_SUFFIX } from '../train/run';

export interface WebServerOptions {
  /** The built page: index.html, app.js, app.css. */
  webDir: string;
  /** dist/screener.js, which the page imports as /screener.js. */
  screenerBundle: string;
  /** Models offered to the page, the default first. */
  models: ModelEntry[];
  /**
   * Host names a request may carry (without the port); others are refused, so that a web page that
   * points its own name at this machine (DNS rebinding) cannot read the models. Any, when absent.
   */
  allowedHosts?: readonly string[];
}

/** The names a browser on this machine reaches a loopback server by. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

export interface ModelEntry {
  /** The name the page sees and the URL uses (/models/NAME): the file's base name. */
  name: string;
  path: string;
  bytes: number;
  /** "tiny preset, masked condition, flow density, 16x16x16 windows at 4x4x4 mm", or why it is not a model. */
  description: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self' blob: data:", // NiiVue reads the buffers the page hands it through blob:/data: URLs
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'", // NiiVue sets element styles
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Lists the .safetensors models of a folder (training checkpoints left out), by name. */
export function modelsInFolder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.safetensors') && !name.endsWith(CHECKPOINT_SUFFIX))
    .sort()
    .map((name) => join(dir, name));
}

/** A model file as the page's list shows it; a file that is not a Screener model says so. */
export function modelEntry(path: string): ModelEntry {
  let description: string;
  try {
    description = describeConfig(screenerConfigOf(readFileBytes(path), path));
  } catch (error) {
    description = `not loadable: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { name: basename(path), path, bytes: statSync(path).size, description };
}

/** Resolves a URL path to a file inside `root`, or null: the traversal checks described above. */
export function resolveInside(root: string, segments: string[]): string | null {
  const candidate = join(root, ...segments);
  if (!existsSync(candidate)) return null;
  const real = realpathSync(candidate);
  const realRoot = realpathSync(root);
  if (!real.startsWith(realRoot + sep)) return null;
  return statSync(real).isFile() ? real : null;
}

/** The decoded segments of a request path, or null when any is unsafe (see above). */
export function pathSegments(rawUrl: string): string[] | null {
  if (!rawUrl.startsWith('/')) return null;
  const rawPath = rawUrl.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return null;
  // An empty segment inside the path ("//etc", "a//b") is nothing a page asks for.
  if (segments.slice(0, -1).some((s) => s === '')) return null;
  return segments;
}

export function createWebServer(options: WebServerOptions): http.Server {
  const models = new Map(options.models.map((m) => [m.name, m]));
  const modelList = JSON.stringify(options.models.map(({ name, bytes, description }) => ({ name, url: `/models/${encodeURIComponent(name)}`, bytes, description })));

  return http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      // A file that went away since start-up (a deleted model, say) fails its request, not the server.
      if (res.headersSent) res.destroy();
      else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const headers: http.OutgoingHttpHeaders = {
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': CONTENT_SECURITY_POLICY,
    };
    const fail = (status: number, text: string) => {
      res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return fail(405, 'method not allowed');
    }
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (options.allowedHosts && !options.allowedHosts.includes(hostName)) return fail(421, `not served to host "${hostName}"`);
    const segments = pathSegments(req.url ?? '');
    if (!segments) return fail(400, 'bad path');
    const path = `/${segments.join('/')}`;

    const send = (file: string, type?: string) => {
      const size = statSync(file).size;
      res.writeHead(200, { ...headers, 'content-type': type ?? CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    };

    if (path === '/api/models') {
      res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES['.json'] });
      return void res.end(req.method === 'HEAD' ? undefined : modelList);
    }
    if (segments.length === 2 && segments[0] === 'models') {
      const model = models.get(segments[1]!);
      return model ? send(model.path) : fail(404, 'no such model');
    }
    if (path === '/screener.js' || path === '/screener.js.map') {
      const file = path.endsWith('.map') ? `${options.screenerBundle}.map` : options.screenerBundle;
      return existsSync(file) ? send(file) : fail(404, 'not found');
    }
    if (path === '/favicon.ico') return void res.writeHead(204, headers).end();
    const file = resolveInside(options.webDir, path === '/' ? ['index.html'] : segments);
    return file ? send(file) : fail(404, 'not found');
  }
}
