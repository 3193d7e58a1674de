// The Node host: a WebGPU device from Dawn (the `webgpu` npm package). This is the only engine file
// that touches Node or `webgpu`; it is not part of dist/engine.js.
//
// Dawn reaches the GPU through Vulkan. On a machine without a usable GPU driver the Vulkan loader finds
// nothing (or only Mesa's lavapipe, which Dawn rejects), so we point the loader at SwiftShader, the
// CPU Vulkan driver that ships with Chromium, through VK_ICD_FILENAMES. The loader reads that variable
// whenever Dawn creates an instance, so setting it and calling create() again is enough.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { describeAdapter, requestAdapter } from './adapter';
import { openRuntime } from './open-runtime';
import type { Runtime } from './runtime';

export type AdapterChoice = 'auto' | 'gpu' | 'software';

export const INSTALL_HINT =
  'Install a software WebGPU adapter with `apt-get install -y chromium libvulkan1` ' +
  '(Debian/Ubuntu: Chromium ships SwiftShader), or a Vulkan driver for your GPU; ' +
  'VK_ICD_FILENAMES may also name a Vulkan driver JSON directly.';

const swiftShaderPlaces = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
  '/opt/google/chrome-beta/vk_swiftshader_icd.json',
  '/snap/chromium/current/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** SwiftShader's Vulkan ICD from a Chromium install, or null. */
export function findSwiftShaderICD(): string | null {
  for (const place of swiftShaderPlaces) if (existsSync(place)) return place;
  // Browsers that test tools keep under ~/.cache/<tool>/chrome/<version>/chrome-linux64/.
  for (const tool of ['puppeteer', 'ms-playwright']) {
    const root = join(homedir(), '.cache', tool);
    for (const found of walkFor(root, 'vk_swiftshader_icd.json', 4)) return found;
  }
  return null;
}

function walkFor(dir: string, name: string, depth: number): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isFile() && entry.name === name) return [path];
      if (entry.isDirectory()) {
        const found = walkFor(path, name, depth - 1);
        if (found.length) return found;
      }
    }
  } catch {
    // unreadable folder: not where the driver is
  }
  return [];
}

let installedGlobals = false;
let heldGPU: GPU | null = null;

function dawn(): GPU {
  if (!installedGlobals) {
    // GPUBufferUsage, GPUMapMode and friends, as a page would have them.
    Object.assign(globalThis, globals);
    installedGlobals = true;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp'; // the Vulkan loader complains on every start without it
  // Dawn rejects Mesa's lavapipe (it lacks required Vulkan features) with a warning on every start.
  process.env.VK_LOADER_DRIVERS_DISABLE ??= '*lvp_icd*';
  heldGPU = create(boundsChecks() ? [] : [UNCHECKED_BUFFER_ACCESS]) as GPU;
  return heldGPU;
}

/**
 * WebGPU checks every buffer access of every shader at run time (robust buffer access: Tint clamps each
 * index, and the Vulkan driver masks each load and store against the buffer's size), because a browser
 * runs shaders from pages it does not trust. A Node process runs only the engine's own kernels, which
 * keep their accesses in bounds by construction and are tested for it (random odd shapes with poisoned
 * outputs, in Node and in Chromium, where the checks stay on). On the software adapter every load is a
 * per-lane gather, and the checks add a clamp and a masked compare to each: a `small` training step
 * takes about 1.1 s instead of 1.4 s (bench/RESULTS.md, "Buffer accesses without run-time bounds checks"). So Node turns
 * them off, as native frameworks never had them; SCREENER_BOUNDS_CHECKS=on keeps them, for debugging a
 * kernel that may read or write past its buffers.
 */
const UNCHECKED_BUFFER_ACCESS = 'enable-dawn-features=allow_unsafe_apis,disable_robustness';

/** Whether Node's WebGPU devices check buffer accesses at run time (SCREENER_BOUNDS_CHECKS; off unless set to on). */
export function boundsChecks(): boolean {
  const value = process.env.SCREENER_BOUNDS_CHECKS;
  if (!value || value === 'off') return false;
  if (value === 'on') return true;
  throw new Error(`SCREENER_BOUNDS_CHECKS must be on or off, not "${value}"`);
}

async function tryAdapter(wantSoftware: boolean | null): Promise<GPUAdapter | null> {
  try {
    const adapter = await requestAdapter(dawn());
    if (!adapter) return null;
    if (wantSoftware !== null && describeAdapter(adapter).software !== wantSoftware) return null;
    return adapter;
  } catch {
    return null;
  }
}

/** A Dawn adapter, chosen by `choice` or the SCREENER_ADAPTER environment variable. */
export async function nodeAdapter(choice?: AdapterChoice): Promise<GPUAdapter> {
  const want = choice ?? parseChoice(process.env.SCREENER_ADAPTER);
  boundsChecks(); // a misspelt value is the user's error, not an adapter that failed to open
  const userICD = process.env.VK_ICD_FILENAMES;

  // Without GPU device nodes no hardware driver can work; trying one only prints the loader's complaints.
  if (want === 'gpu' || (want === 'auto' && (userICD || mayHaveGPU()))) {
    const hardware = await tryAdapter(want === 'gpu' ? false : null);
    if (hardware && (want === 'gpu' || !describeAdapter(hardware).software)) return hardware;
    if (want === 'gpu') {
      throw new Error(`SCREENER_ADAPTER=gpu: no hardware WebGPU adapter is usable${userICD ? ` (VK_ICD_FILENAMES=${userICD})` : ''}. Check the GPU's Vulkan driver (vulkaninfo), or use SCREENER_ADAPTER=software.`);
    }
    if (hardware && userICD) return hardware; // the user chose this driver explicitly
  }

  const icd = findSwiftShaderICD();
  if (!icd) {
    throw new Error(`No WebGPU adapter: no GPU driver is usable and no software adapter was found. ${INSTALL_HINT}`);
  }
  process.env.VK_ICD_FILENAMES = icd;
  const software = await tryAdapter(null);
  if (software) return software;
  throw new Error(
    `No WebGPU adapter: SwiftShader was found at ${icd} but Dawn could not open it` +
      `${existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') ? '' : ' (the Vulkan loader libvulkan.so.1 is missing)'}. ${INSTALL_HINT}`,
  );
}

/** The runtimes opened on Dawn whose device is not lost yet. */
const openRuntimes = new Set<Runtime>();

/** A runtime on Dawn: the GPU if one is usable, else the software adapter. */
export async function nodeRuntime(choice?: AdapterChoice): Promise<Runtime> {
  return openNodeRuntime(await nodeAdapter(choice));
}

/** A runtime on an adapter nodeAdapter() gave, tracked so that the process can end cleanly (releaseDawnWhenIdle). */
export async function openNodeRuntime(adapter: GPUAdapter): Promise<Runtime> {
  const runtime = await openRuntime(adapter, { waitForGpu: waitWithoutSpinning });
  openRuntimes.add(runtime);
  // Dawn keeps the process alive while the GPU object is referenced: let go of it once the last open
  // device is gone (a later nodeAdapter() call makes a new one). Until then this listener holds it, so
  // it cannot be collected while Dawn still polls for the device's loss (see releaseDawnWhenIdle).
  const gpu = heldGPU;
  runtime.onDeviceLost(() => {
    openRuntimes.delete(runtime);
    if (openRuntimes.size > 0) return;
    void afterDawnPolls().then(() => {
      if (heldGPU === gpu && openRuntimes.size === 0) heldGPU = null;
    });
  });
  return runtime;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** The longest sleep between two polls, in milliseconds: what a wait may overshoot the GPU by. */
const MAX_SLEEP_MS = 1;

/**
 * Awaits a promise that Dawn settles (a buffer map, the queue's completion, an error scope) without
 * keeping a core busy. Dawn's binding settles its promises from a setImmediate callback that queues
 * itself again for as long as any is pending, so a plain await keeps this thread at 100 % for as long
 * as the GPU works; on the software adapter that thread takes a third of the two cores' time from
 * SwiftShader's own threads, which do the work (bench/RESULTS.md, "Waiting for the GPU without
 * spinning"). Here the thread sleeps between turns of the event loop: every turn runs Dawn's poll once
 * (and whatever else is due), then the thread sleeps an eighth of the time waited so far, at most
 * MAX_SLEEP_MS, so that a short wait stays short.
 */
export async function waitWithoutSpinning<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  work.then(mark, mark);
  const start = performance.now();
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled) return work;
    const waited = performance.now() - start;
    Atomics.wait(sleeper, 0, 0, Math.min(MAX_SLEEP_MS, Math.max(0.02, waited / 8)));
  }
}

/** Two turns of the event loop: Dawn polls from setImmediate callbacks, and a poll queued with a device's loss runs out. */
async function afterDawnPolls(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Destroys every device still open, for a process about to exit in the middle of GPU work (a stop
 * signal): process.exit while SwiftShader's threads still run a submission tears Dawn down under them
 * and ends the process with a segmentation fault instead of its exit code.
 */
export function disposeNodeRuntimes(): void {
  for (const runtime of openRuntimes) runtime.dispose();
  openRuntimes.clear();
}

/** Whether this machine exposes a GPU to user space at all (Linux: DRM render nodes, NVIDIA, WSL). */
function mayHaveGPU(): boolean {
  if (process.platform !== 'linux') return true;
  const nodes = (dir: string, prefix: string) => existsSync(dir) && readdirSync(dir).some((n) => n.startsWith(prefix));
  return nodes('/dev/dri', 'renderD') || nodes('/dev', 'nvidia') || existsSync('/dev/dxg');
}

/** The Dawn GPU object behind the adapter nodeAdapter() would choose, for code that wants the raw API. */
export async function nodeGPU(choice?: AdapterChoice): Promise<GPU> {
  await nodeAdapter(choice);
  return heldGPU!;
}

function parseChoice(value: string | undefined): AdapterChoice {
  if (!value || value === 'auto') return 'auto';
  if (value === 'gpu' || value === 'software') return value;
  throw new Error(`SCREENER_ADAPTER must be gpu, software or auto, not "${value}"`);
}

/**
 * Lets go of Dawn's GPU object, for a process whose work is done: Dawn keeps the process alive while
 * it is held. Every device still open is destroyed first, and the object is dropped only once each
 * has reported its loss and Dawn's event polling has run its last turn: its polling callback reads the
 * instance that the GPU object owns, so a collection of that object while a device's loss is still
 * pending aborts the process (std::system_error from InstanceBase::ProcessEvents) at its very end.
 */
export async function releaseDawnWhenIdle(maxWaitMs = 5000): Promise<void> {
  const losses = [...openRuntimes].map((runtime) => new Promise<void>((resolve) => runtime.onDeviceLost(() => resolve())));
  disposeNodeRuntimes();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, maxWaitMs);
    timer.unref();
  });
  await Promise.race([Promise.all(losses), deadline]);
  clearTimeout(timer);
  await afterDawnPolls();
  heldGPU = null;
}
