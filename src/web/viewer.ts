// The slice viewer: NiiVue (WebGL2) showing the CT in grey and the anomaly map as a colour overlay
// on it, axial, coronal and sagittal at once. Both volumes are handed to NiiVue as NIfTI bytes with
// their own affines, so the overlay lies where `screener predict`'s file would in any viewer.
import { Niivue, NVImage, SHOW_RENDER, SLICE_TYPE } from '@niivue/niivue';

/** The CT window the slices open with (HU): soft tissue, where most lesions are. */
const CT_WINDOW: [number, number] = [-200, 300];

export interface CursorReading {
  /** Voxel (i, j, k) of the CT file under the pointer. */
  voxel: [number, number, number];
  hu: number;
  /** The anomaly score there, when a map is shown. */
  score: number | null;
}

export class Viewer {
  readonly nv: Niivue;
  private overlayRange: [number, number] = [0, 1];

  private constructor(
    private readonly canvas: HTMLCanvasElement,
    nv: Niivue,
  ) {
    this.nv = nv;
  }

  /** Attaches NiiVue to the canvas; throws when the browser has no WebGL2. */
  static async create(canvas: HTMLCanvasElement): Promise<Viewer> {
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: [0.3, 0.8, 1, 0.6],
      crosshairWidth: 0.15, // in voxels of the CT: a thin line even on a coarse phantom
      show3Dcrosshair: false,
      isColorbar: true,
      multiplanarShowRender: SHOW_RENDER.NEVER,
      dragAndDropEnabled: false, // the page routes dropped files itself (scans and models)
      logLevel: 'warn',
      loadingText: '',
    });
    await nv.attachToCanvas(canvas);
    nv.setSliceType(SLICE_TYPE.MULTIPLANAR);
    return new Viewer(canvas, nv);
  }

  get volumeCount(): number {
    return this.nv.volumes.length;
  }

  /** Shows a CT (NIfTI bytes), replacing whatever was shown. */
  async showScan(bytes: Uint8Array, name: string): Promise<void> {
    this.clear();
    const image = await NVImage.loadFromUrl({
      url: name,
      name,
      buffer: toArrayBuffer(bytes),
      colormap: 'gray',
      cal_min: CT_WINDOW[0],
      cal_max: CT_WINDOW[1],
    });
    this.nv.addVolume(image);
  }

  /** Shows an anomaly map (NIfTI bytes on the CT's grid) over the CT, replacing an earlier one. */
  async showOverlay(bytes: Uint8Array, name: string, range: [number, number], threshold: number, opacity: number): Promise<void> {
    while (this.nv.volumes.length > 1) this.nv.removeVolume(this.nv.volumes[this.nv.volumes.length - 1]!);
    this.overlayRange = range;
    const image = await NVImage.loadFromUrl({
      url: name,
      name,
      buffer: toArrayBuffer(bytes),
      colormap: 'warm',
      opacity,
      cal_min: threshold,
      cal_max: range[1],
    });
    this.nv.addVolume(image);
  }

  get hasOverlay(): boolean {
    return this.nv.volumes.length > 1;
  }

  setOpacity(opacity: number): void {
    if (this.hasOverlay) this.nv.setOpacity(1, opacity);
  }

  /** Scores below the threshold are not coloured. */
  setThreshold(threshold: number): void {
    const overlay = this.nv.volumes[1];
    if (!overlay) return;
    overlay.cal_min = threshold;
    overlay.cal_max = Math.max(this.overlayRange[1], threshold + 1e-6);
    this.nv.updateGLVolume();
  }

  /** Calls back with the CT value and the score under the pointer as it moves over a slice. */
  onPointer(callback: (reading: CursorReading | null) => void): void {
    this.canvas.addEventListener('mousemove', (event) => callback(this.readAt(event)));
    this.canvas.addEventListener('mouseleave', () => callback(null));
  }

  private readAt(event: MouseEvent): CursorReading | null {
    const ct = this.nv.volumes[0];
    if (!ct) return null;
    const rect = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const frac = this.nv.canvasPos2frac([(event.clientX - rect.left) * dpr, (event.clientY - rect.top) * dpr]);
    if (!frac || frac[0] < 0) return null;
    const mm = this.nv.frac2mm(frac, 0, true);
    const valueOf = (index: number) => {
      const volume = this.nv.volumes[index];
      if (!volume) return null;
      const v = volume.mm2vox([mm[0], mm[1], mm[2]]);
      return { voxel: [v[0], v[1], v[2]] as [number, number, number], value: volume.getValue(v[0], v[1], v[2]) };
    };
    const base = valueOf(0)!;
    return { voxel: base.voxel, hu: base.value, score: valueOf(1)?.value ?? null };
  }

  clear(): void {
    while (this.nv.volumes.length) this.nv.removeVolume(this.nv.volumes[this.nv.volumes.length - 1]!);
  }
}

/** NiiVue wants an ArrayBuffer holding exactly the file. */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
