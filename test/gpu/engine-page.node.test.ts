// dist/engine.js embedded in a page on its own: a server that has nothing but engine-page.html and the
// bundle, headless Chromium (the system's, WebGPU on SwiftShader without a GPU), and a small conv net
// trained there through the public API. Node-only because it starts the server and the browser.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../../src/cli/chromium/flags';

const CHROMIUM = chromiumPath();
const FLAGS = chromiumArgs();

const files: Record<string, { path: string; type: string }> = {
  '/': { path: 'test/gpu/engine-page.html', type: 'text/html' },
  '/engine.js': { path: 'dist/engine.js', type: 'text/javascript' },
};

describe('dist/engine.js alone in a page', () => {
  const requested: string[] = [];
  let server: http.Server;
  let base = '';
  let browser: Browser;
  let userDataDir = '';

  beforeAll(async () => {
    // 127.0.0.1 is a secure context, so the page has navigator.gpu (file: and data: pages do not).
    server = http.createServer((req, res) => {
      const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (pathname === '/favicon.ico') return void res.writeHead(204).end(); // else a 404 console error
      requested.push(pathname);
      const file = files[pathname];
      res.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain', 'cache-control': 'no-store' });
      res.end(file ? readFileSync(file.path) : 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'engine-page-'));
    try {
      browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, userDataDir, args: FLAGS });
    } catch (e) {
      throw new Error(`cannot start Chromium at ${CHROMIUM} (apt-get install -y chromium libvulkan1, or set CHROMIUM_PATH): ${e}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('trains a two-layer conv net with the public API, and the loss falls', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${base}/?steps=10`);
    // A module that failed to load never sets window.training: say why instead of timing out blindly.
    await page.waitForFunction(() => 'training' in window, { timeout: 30_000 }).catch(() => {
      throw new Error(`the page never started training: ${problems.join('; ') || 'no error reported'}`);
    });
    const { losses, adapter } = await page.evaluate(
      () => (window as unknown as { training: Promise<{ losses: number[]; adapter: string }> }).training,
    );
    await page.close();

    console.log(`engine page on ${adapter}: losses ${losses.map((l) => l.toFixed(4)).join(' ')}`);
    expect(adapter).not.toBe('');
    expect(losses).toHaveLength(10);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    // Nothing but the page and the bundle was asked for: the bundle needs no other file.
    expect([...requested].sort()).toEqual(['/', '/engine.js']);
    expect(problems).toEqual([]);
  });
});
