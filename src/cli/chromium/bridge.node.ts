// The local HTTP server between a `--runtime chromium` command and its page. It serves the page and
// the bundles it imports from 127.0.0.1 (a secure context, which navigator.gpu needs; file: and data:
// URLs are not one), and carries the bytes of the run under /run/TOKEN/ (remote-protocol.ts):
// what Node offers the page, the files the run may read and write (by exact path, nothing else), and
// what the page hands back. The token is random per run, so no other local program can guess the
// path, and the server only listens while the command runs.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileAtomic } from '../../data/io/atomic-write.node';
import { readFileBytes } from '../../data/io/files.node';

export interface BridgeBundles {
  /** dist/web/remote.js, served as /remote.js. */
  page: string;
  /** dist/screener.js, which remote.js imports as /screener.js. */
  screener: string;
}

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>Screener runtime</title><link rel="icon" href="data:,"><script type="module" src="/remote.js"></script>';

export class Bridge {
  /** The page's address, http://127.0.0.1:PORT/. */
  url = '';
  /** Where the page reaches this run's bytes. */
  readonly api = `/run/${randomUUID()}`;
  /** Bytes the page may GET at {api}/in/NAME. */
  readonly offered = new Map<string, Uint8Array>();
  /** Bytes the page PUT at {api}/out/NAME. */
  readonly received = new Map<string, Uint8Array>();
  /** Files the run may read, and write (atomically), by exact path. */
  readonly readable = new Set<string>();
  readonly writable = new Set<string>();
  /** The first write that failed here: the real error, which the page only echoes as text. */
  writeError: unknown = null;
  private readonly server: http.Server;

  constructor(private readonly bundles: BridgeBundles) {
    this.server = http.createServer((req, res) => {
      this.handle(req)
        .then(({ status, body, type }) => {
          res.writeHead(status, { 'content-type': type ?? 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end(body);
        })
        .catch((error) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(error instanceof Error ? error.message : String(error));
        });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage): Promise<{ status: number; body?: Uint8Array | string; type?: string }> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const get = req.method === 'GET';
    if (get && url.pathname === '/') return { status: 200, body: PAGE_HTML, type: 'text/html; charset=utf-8' };
    if (get && url.pathname === '/remote.js') return { status: 200, body: readFileSync(this.bundles.page), type: 'text/javascript' };
    if (get && url.pathname === '/screener.js') return { status: 200, body: readFileSync(this.bundles.screener), type: 'text/javascript' };
    if (!url.pathname.startsWith(`${this.api}/`)) return { status: 404, body: 'not found' };
    const route = url.pathname.slice(this.api.length + 1);
    if (get && route.startsWith('in/')) {
      const bytes = this.offered.get(route.slice(3));
      return bytes ? { status: 200, body: bytes, type: 'application/octet-stream' } : { status: 404, body: 'not offered' };
    }
    if (req.method === 'PUT' && route.startsWith('out/')) {
      this.received.set(route.slice(4), await bodyOf(req));
      return { status: 204 };
    }
    if (route === 'file') {
      const path = url.searchParams.get('path') ?? '';
      if (get) {
        if (!this.readable.has(path)) return { status: 403, body: `${path}: not a file this run reads` };
        if (!existsSync(path)) return { status: 404, body: `${path}: no such file` };
        return { status: 200, body: readFileBytes(path), type: 'application/octet-stream' };
      }
      if (req.method === 'PUT') {
        if (!this.writable.has(path)) return { status: 403, body: `${path}: not a file this run writes` };
        const bytes = await bodyOf(req);
        try {
          writeFileAtomic(path, bytes);
        } catch (error) {
          this.writeError ??= error;
          throw error;
        }
        return { status: 204 };
      }
    }
    return { status: 405, body: 'not allowed' };
  }
}

function bodyOf(req: http.IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
