// The models the page can run: the ones `screener serve` offers (/api/models), .safetensors files the
// user opens, and models trained in the page. Bytes are checked when they arrive, so a file that is
// not a Screener model is refused with its name at once, not when Run is pressed.
import { describeConfig, Screener, screenerConfigOf, type Runtime } from '../screener';

export interface ModelChoice {
  name: string;
  description: string;
  origin: 'shipped' | 'opened' | 'trained';
  /** Where a shipped model is fetched from (same origin). */
  url?: string;
  /** The file, once fetched, opened or trained. */
  bytes?: Uint8Array;
}

export class ModelLibrary {
  readonly choices: ModelChoice[] = [];
  private loaded: { choice: ModelChoice; model: Screener } | null = null;

  /** The server's list; an empty list when the page is not served by `screener serve`. */
  async fetchOffered(): Promise<void> {
    const response = await fetch('api/models');
    if (!response.ok) return;
    const list = (await response.json()) as { name: string; url: string; description: string }[];
    for (const m of list) this.choices.push({ name: m.name, description: m.description, origin: 'shipped', url: m.url });
  }

  /** Adds a model file (opened or trained), checking that it is a Screener model; returns its choice. */
  add(name: string, bytes: Uint8Array, origin: 'opened' | 'trained'): ModelChoice {
    const config = screenerConfigOf(bytes, name); // throws a DataError naming the file
    const choice: ModelChoice = { name, description: describeConfig(config), origin, bytes };
    const existing = this.choices.findIndex((c) => c.name === name);
    if (existing >= 0) {
      if (this.loaded?.choice === this.choices[existing]) this.unload();
      this.choices[existing] = choice;
    } else this.choices.push(choice);
    return choice;
  }

  find(name: string): ModelChoice | undefined {
    return this.choices.find((c) => c.name === name);
  }

  /** The model on the GPU, loading it (and freeing the one before) when another is chosen. */
  async load(runtime: Runtime, name: string): Promise<Screener> {
    const choice = this.find(name);
    if (!choice) throw new Error(`no model named ${name}`);
    if (this.loaded?.choice === choice) return this.loaded.model;
    if (!choice.bytes) {
      const response = await fetch(choice.url!);
      if (!response.ok) throw new Error(`${name}: the server answered ${response.status} ${response.statusText}`);
      choice.bytes = new Uint8Array(await response.arrayBuffer());
    }
    this.unload();
    const model = Screener.fromSafetensors(runtime, choice.bytes, name);
    this.loaded = { choice, model };
    return model;
  }

  unload(): void {
    this.loaded?.model.dispose();
    this.loaded = null;
  }
}
