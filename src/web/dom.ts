// Small DOM helpers the page's modules share.

/** The element with this id; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

/** Resolves after the browser has painted: lets a status line show before synchronous work starts. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** The banner under the header: errors stay until replaced, other notes too (empty text hides it). */
export function showMessage(text: string, kind: 'error' | 'ok' | 'note' = 'note'): void {
  const banner = byId('message');
  banner.textContent = text;
  banner.className = `banner${kind === 'note' ? '' : ` ${kind}`}`;
  banner.hidden = text === '';
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Saves bytes as a file through the browser's own download (a blob: URL, nothing leaves the page). */
export function downloadBytes(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export async function readFileBytes(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}
