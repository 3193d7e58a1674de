// The web app end to end, as a user meets it: `screener serve` (the built CLI), headless Chromium
// (WebGPU on SwiftShader without a GPU, WebGL for NiiVue), a phantom generated in the page, the shipped
// tiny model run on it, the anomaly map downloaded and checked against the phantom's grid and against
// `screener predict`'s file for the same scan, a run cancelled, a tiny model trained in the page and
// its weights loaded by the model code, bad files refused by name, and not one request outside the
// page's origin. SCREENER_SCREENSHOT=FILE saves what the page looks like after the run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../../src/cli/chromium/flags';
import { decodeNifti, encodeNifti } from '../../src/data/io/nifti';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { encodeSafetensors } from '../../src/model/safetensors';
import { Screener } from '../../src/model/screener';
import { testRuntime } from '../helpers/runtime';

const CHROMIUM = chromiumPath();
const FLAGS = chromiumArgs();

interface PageState {
  busy: string | null;
  scan: string | null;
  hasOverlay: boolean;
  volumes: number;
  errors: string[];
  adapter: string | null;
}

const pageState = (page: Page) => page.evaluate(() => (window as unknown as { screenerPage: { state: PageState } }).screenerPage.state);

/** Waits for a finished download (Chromium writes NAME.crdownload first) whose name matches. */
async function download(dir: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const name = readdirSync(dir).find((n) => pattern.test(n) && !n.endsWith('.crdownload'));
    if (name) return path.join(dir, name);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no download matching ${pattern} in ${timeoutMs / 1000} s (found: ${readdirSync(dir).join(', ') || 'nothing'})`);
}

describe('the web app in headless Chromium', () => {
  let server: ChildProcess;
  let base = '';
  let browser: Browser;
  let page: Page;
  let dir = '';
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'screener-page-'));
    mkdirSync(path.join(dir, 'downloads'));
    server = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (c) => {
        out += c;
        const m = /Screener: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (code) => reject(new Error(`screener serve exited (${code}) before listening`)));
    });
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: path.join(dir, 'profile'),
        args: FLAGS,
        defaultViewport: { width: 1400, height: 900 },
      });
    } catch (e) {
      throw new Error(`cannot start Chromium at ${CHROMIUM} (apt-get install -y chromium libvulkan1, or set CHROMIUM_PATH): ${e}`);
    }
    page = await browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: path.join(dir, 'downloads'), eventsEnabled: true });
    await page.goto(`${base}/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the adapter and offers the shipped models', async () => {
    const state = await pageState(page);
    expect(state.adapter).toMatch(/software adapter|GPU/);
    expect(await page.$eval('#adapter', (e) => e.textContent)).toBe(state.adapter);
    const models = await page.$$eval('#model-select option', (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(models).toContain('demo.safetensors');
    expect(await page.$eval('.privacy', (e) => e.textContent)).toMatch(/Nothing is uploaded/);
  });

  it('generates a phantom, runs the shipped tiny model on it, shows the overlay and downloads the map on the phantom grid', async () => {
    await page.select('#phantom-size', '48');
    await page.$eval('#phantom-seed', (e) => ((e as HTMLInputElement).value = '1'));
    await page.click('#phantom');
    await page.waitForFunction(() => (window as unknown as { screenerPage: { state: PageState } }).screenerPage.state.scan !== null, { timeout: 60_000 });
    expect((await pageState(page)).volumes).toBe(1);

    await page.select('#model-select', 'tiny.safetensors');
    await page.select('#overlap', '0'); // the fewest windows: this checks the pipeline, not the quality
    await page.click('#run');
    await page.waitForFunction(() => document.body.dataset.busy === '', { timeout: 300_000, polling: 500 });
    const state = await pageState(page);
    expect(state.errors).toEqual([]);
    expect(state.hasOverlay).toBe(true);
    expect(state.volumes).toBe(2);
    expect(await page.$eval('#run-status', (e) => e.textContent)).toMatch(/^done: \d+ windows/);
    expect(await page.$eval('#run-progress', (e) => (e as HTMLProgressElement).value)).toBe(1);

    // The score under the pointer, read from the overlay.
    const box = (await page.$('#viewer'))!.boundingBox();
    const { x, y, width, height } = (await box)!;
    await page.mouse.move(x + width * 0.3, y + height * 0.25);
    expect(await page.$eval('#cursor', (e) => e.textContent)).toMatch(/HU\s+score -?\d/);
    if (process.env.SCREENER_SCREENSHOT) await page.screenshot({ path: process.env.SCREENER_SCREENSHOT });

    await page.click('#download-map');
    const file = await download(path.join(dir, 'downloads'), /^phantom-48-seed1-anomaly\.nii\.gz$/);
    const map = decodeNifti(readFileSync(file), file);
    const { ct } = generatePhantom({ seed: 1, size: 48 });
    expect(map.shape).toEqual(ct.shape);
    expect(map.datatype).toBe('float32');
    map.affine.forEach((v, i) => expect(v).toBeCloseTo(ct.affine[i]!, 3));

    // The file `screener predict` writes for the same scan: same grid, header and scores (to rounding:
    // Chromium's WebGPU and Node's Dawn compile the shaders apart).
    const ctFile = path.join(dir, 'phantom.nii');
    writeFileSync(ctFile, encodeNifti(ct, { gzip: false }));
    const cliFile = path.join(dir, 'cli-anomaly.nii.gz');
    execFileSync(process.execPath, ['dist/cli.js', 'predict', '--model', 'models/tiny.safetensors', '--in', ctFile, '--out', cliFile, '--overlap', '0'], { stdio: 'ignore' });
    const cli = decodeNifti(readFileSync(cliFile), cliFile);
    expect(cli.shape).toEqual(map.shape);
    expect(cli.affine).toEqual(map.affine);
    expect(cli.description).toBe(map.description);
    let worst = 0;
    for (let i = 0; i < cli.data.length; i++) worst = Math.max(worst, Math.abs(cli.data[i]! - map.data[i]!));
    expect(worst).toBeLessThan(1e-3);
  }, 360_000);

  it('cancels a run: the progress stops, the map shown before stays', async () => {
    await page.select('#overlap', '0.5');
    await page.click('#run');
    await page.waitForFunction(() => /^\d+ \/ \d+ windows/.test(document.getElementById('run-status')!.textContent!), { timeout: 120_000, polling: 100 });
    expect(await page.$eval('#run-status', (e) => e.textContent)).toMatch(/elapsed · ETA/);
    await page.click('#run-cancel');
    await page.waitForFunction(() => document.body.dataset.busy === '', { timeout: 60_000, polling: 200 });
    expect(await page.$eval('#run-status', (e) => e.textContent)).toBe('cancelled');
    const state = await pageState(page);
    expect(state.errors).toEqual([]);
    expect(state.hasOverlay).toBe(true);
    expect(await page.$eval('#download-map', (e) => (e as HTMLButtonElement).disabled)).toBe(false);
  }, 180_000);

  it('trains a tiny model for two steps per stage and downloads weights the model code loads', async () => {
    await page.select('#train-source', 'phantoms');
    await page.$eval('#train-count', (e) => ((e as HTMLInputElement).value = '2'));
    await page.$eval('#train-steps', (e) => ((e as HTMLInputElement).value = '2'));
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.busy === 'train', { timeout: 10_000 });
    await page.waitForFunction(() => document.body.dataset.busy === '', { timeout: 300_000, polling: 500 });
    expect((await pageState(page)).errors).toEqual([]);
    expect(await page.$eval('#train-status', (e) => e.textContent)).toMatch(/^trained in/);
    // The trained model is now the chosen one.
    expect(await page.$eval('#model-select', (e) => (e as HTMLSelectElement).value)).toMatch(/^trained-.*\.safetensors$/);

    await page.click('#download-weights');
    const file = await download(path.join(dir, 'downloads'), /^trained-.*\.safetensors$/);
    const model = Screener.fromSafetensors(await testRuntime(), readFileSync(file), file);
    try {
      expect([...model.trainedStages].sort()).toEqual(['condition', 'density', 'descriptor']);
      expect(model.config.preset).toBe('custom');
    } finally {
      model.dispose();
    }
  }, 360_000);

  it('refuses a file that is not a NIfTI and a .safetensors that is not a Screener model, naming each, and warns of a scan without air', async () => {
    const notNifti = path.join(dir, 'notes.nii');
    writeFileSync(notNifti, 'these are notes, not a scan\n'.repeat(20));
    await ((await page.$('#scan-file')) as ElementHandle<HTMLInputElement>).uploadFile(notNifti);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden, { timeout: 10_000 });
    expect(await page.$eval('#message', (e) => e.textContent)).toMatch(/^notes\.nii: not a NIfTI-1 file/);

    const other = path.join(dir, 'other.safetensors');
    writeFileSync(other, encodeSafetensors([['w', { shape: [2], data: new Float32Array(2) }]]));
    await ((await page.$('#model-file')) as ElementHandle<HTMLInputElement>).uploadFile(other);
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('other.safetensors'), { timeout: 10_000 });
    expect(await page.$eval('#message', (e) => e.textContent)).toMatch(/^other\.safetensors: not a Screener model/);
    // The scan and the results of the tests above are still there.
    expect((await pageState(page)).scan).toBe('phantom-48-seed1.nii');

    // A scan without air (raw values stored without their rescale) opens, to be seen, with the warning
    // `screener predict` would refuse it with.
    const { ct } = generatePhantom({ seed: 1, size: 32 });
    const raw = path.join(dir, 'raw.nii');
    writeFileSync(raw, encodeNifti({ ...ct, data: Float32Array.from(ct.data, (hu) => hu + 1024) }, { gzip: false }));
    await ((await page.$('#scan-file')) as ElementHandle<HTMLInputElement>).uploadFile(raw);
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('raw.nii'), { timeout: 30_000 });
    expect(await page.$eval('#message', (e) => e.textContent)).toMatch(/^raw\.nii: no voxel is air: the lowest value is \d+, .*; Screener's map of it would mean nothing$/);
    expect((await pageState(page)).scan).toBe('raw.nii');
  });

  it('says which setting turns WebGPU on in a browser that does not give it', async () => {
    const plain = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: path.join(dir, 'profile-plain'),
      args: FLAGS.filter((f) => f !== '--enable-unsafe-webgpu'),
    });
    try {
      const other = await plain.newPage();
      await other.goto(`${base}/`);
      await other.waitForFunction(() => document.body.dataset.ready === 'true', { timeout: 60_000 });
      expect(await other.$eval('#gpu-missing', (e) => (e as HTMLElement).hidden)).toBe(false);
      expect(await other.$eval('#gpu-missing', (e) => e.textContent)).toMatch(/--enable-unsafe-webgpu/);
      expect(await other.$eval('#run', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    } finally {
      await plain.close();
    }
  });

  it('asked for nothing outside its origin, and logged no error', () => {
    const outside = requests.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
    expect(outside).toEqual([]);
    expect(requests).toContain(`${base}/screener.js`);
    expect(problems).toEqual([]);
  });
});
