// `screener serve` as a user starts it: the built CLI on a free port. It serves the page, the bundles,
// the model list and the models, refuses every way out of its folders, and listens on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Reply {
  status: number;
  type: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as written (fetch would normalise "/../x" before sending). */
function request(port: number, rawPath: string, method = 'GET', hostHeader?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, ...(hostHeader ? { headers: { host: hostHeader } } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('screener serve', () => {
  let child: ChildProcess;
  let port = 0;
  let host = '';
  let dir = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'serve-'));
    copyFileSync('models/tiny.safetensors', path.join(dir, 'mine.safetensors'));
    child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--model', path.join(dir, 'mine.safetensors')], { stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`screener serve exited (${code}) before listening: ${stderr}`)));
    });
    const match = /^Screener: http:\/\/([\d.]+):(\d+)\/$/.exec(line);
    if (!match) throw new Error(`unexpected first line: ${line}`);
    host = match[1]!;
    port = Number(match[2]);
  });

  afterAll(() => {
    child?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 by default, and on no other address of this machine', async () => {
    expect(host).toBe('127.0.0.1');
    const others = Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal);
    for (const address of others) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: address!.address, port }, () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(true));
      });
      expect(refused, `${address!.address}:${port} must not answer`).toBe(true);
    }
  });

  it('serves the page and its files with their content types', async () => {
    const page = await request(port, '/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body.toString()).toContain('<script type="module" src="app.js">');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    for (const [file, type] of [['/app.js', /^text\/javascript/], ['/app.css', /^text\/css/], ['/screener.js', /^text\/javascript/]] as const) {
      const reply = await request(port, file);
      expect(reply.status, file).toBe(200);
      expect(reply.type, file).toMatch(type);
    }
    expect((await request(port, '/screener.js')).body.equals(readFileSync('dist/screener.js'))).toBe(true);
    const head = await request(port, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect((await request(port, '/', 'POST')).status).toBe(405);
    expect((await request(port, '/nothing-here.js')).status).toBe(404);
  });

  it('lists the models, --model first, and serves them byte for byte', async () => {
    const list = await request(port, '/api/models');
    expect(list.type).toMatch(/^application\/json/);
    const models = JSON.parse(list.body.toString()) as { name: string; url: string; bytes: number; description: string }[];
    expect(models.map((m) => m.name).slice(0, 2)).toEqual(['mine.safetensors', 'demo.safetensors']);
    expect(models.every((m) => !m.name.includes('checkpoint'))).toBe(true);
    expect(models[0]!.description).toMatch(/preset, masked condition, flow density, 16x16x16 windows at 4x4x4 mm/);
    const demo = await request(port, models[1]!.url);
    expect(demo.status).toBe(200);
    expect(demo.type).toBe('application/octet-stream');
    expect(demo.body.equals(readFileSync('models/demo.safetensors'))).toBe(true);
    expect((await request(port, '/models/README.md')).status).toBe(404);
  });

  it('answers only to this machine\'s own names, so a page elsewhere cannot rebind its name to it', async () => {
    for (const name of ['localhost', '127.0.0.1', '[::1]']) expect((await request(port, '/api/models', 'GET', `${name}:${port}`)).status, name).toBe(200);
    for (const name of ['attacker.example', 'attacker.example:80', '192.0.2.1']) {
      const reply = await request(port, '/api/models', 'GET', name);
      expect(reply.status, name).toBe(421);
      expect(reply.body.toString()).not.toMatch(/safetensors/);
    }
  });

  it('refuses every way out of its folders', async () => {
    const attempts = [
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/%2E%2E%2Fpackage.json',
      '/..%5cpackage.json',
      '/%5c..%5cpackage.json',
      '/models/../package.json',
      '/models/..%2f..%2fpackage.json',
      '/models/%2e%2e%2fpackage.json',
      '/./../package.json',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/..%00/package.json',
      '/%zz',
      '/../../../../../../etc/passwd',
      '/web/../../package.json',
    ];
    const pkg = readFileSync('package.json');
    for (const attempt of attempts) {
      const reply = await request(port, attempt);
      expect([400, 404], attempt).toContain(reply.status);
      expect(reply.body.includes(pkg.subarray(0, 40)), attempt).toBe(false);
      expect(reply.body.toString(), attempt).not.toMatch(/root:/);
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
