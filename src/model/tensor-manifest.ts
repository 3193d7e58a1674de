// The name and shape of every tensor a Screener of a given config holds, computed from the config
// alone, so that a weights file can be checked against it before a single GPU buffer is allocated.
// It mirrors the modules' constructors (unet.ts, density.ts, src/graph/flows); a test builds each
// kind of model and compares its tensors with this list, so the two cannot drift apart.
import { bankSizeOf, conditionChannels, type ScreenerConfig, type UNetConfig } from './config';

export type TensorManifest = Map<string, number[]>;

function unetTensors(out: TensorManifest, prefix: string, n: UNetConfig): void {
  const c = n.channels;
  const convBlock = (name: string, cin: number, cout: number) => {
    out.set(`${name}.conv.weight`, [cout, 3, 3, 3, cin]);
    out.set(`${name}.norm.weight`, [cout]);
    out.set(`${name}.norm.bias`, [cout]);
  };
  c.forEach((ch, i) => {
    convBlock(`${prefix}.encoder.${i}.0`, i === 0 ? n.inputChannels : c[i - 1]!, ch);
    convBlock(`${prefix}.encoder.${i}.1`, ch, ch);
  });
  for (let i = 0; i + 1 < c.length; i++) {
    out.set(`${prefix}.decoder.${i}.reduce.weight`, [c[i]!, 1, 1, 1, c[i + 1]!]);
    convBlock(`${prefix}.decoder.${i}.fuse`, 2 * c[i]!, c[i]!);
  }
  c.forEach((ch, i) => {
    out.set(`${prefix}.heads.${i}.weight`, [n.embedding, 1, 1, 1, ch]);
    if (i === 0) out.set(`${prefix}.heads.${i}.bias`, [n.embedding]);
  });
}

function densityTensors(out: TensorManifest, config: ScreenerConfig): void {
  const d = config.descriptor.embedding;
  const cc = conditionChannels(config);
  const o = config.density;
  if (o.kind === 'knn') {
    out.set('density.bank', [bankSizeOf(config), d]);
    return;
  }
  if (o.kind === 'gaussian') {
    if (cc > 0) {
      out.set('density.hidden.weight', [o.gaussianHidden, 3, 3, 3, cc]);
      out.set('density.hidden.bias', [o.gaussianHidden]);
      out.set('density.out.weight', [2 * d, 3, 3, 3, o.gaussianHidden]);
      out.set('density.out.bias', [2 * d]);
    } else {
      out.set('density.mean', [d]);
      out.set('density.logVariance', [d]);
    }
    return;
  }
  const pass = Math.floor(d / 2);
  const transform = d - pass;
  const widths = [pass + cc, o.flowHidden, o.flowHidden, 2 * transform];
  for (let k = 0; k < o.flowBlocks; k++) {
    const block = `density.flow.blocks.${k}`;
    out.set(`${block}.actnorm.logScale`, [d]);
    out.set(`${block}.actnorm.bias`, [d]);
    if (cc > 0) {
      out.set(`${block}.actnorm.conditionScale`, [cc, d]);
      out.set(`${block}.actnorm.conditionShift`, [cc, d]);
    }
    out.set(`${block}.invconv.lower`, [d, d]);
    out.set(`${block}.invconv.upper`, [d, d]);
    out.set(`${block}.invconv.logS`, [d]);
    out.set(`${block}.invconv.permutation`, [d, d]);
    out.set(`${block}.invconv.sign`, [d]);
    // The coupling's MLP: Linear layers at 0, 2, 4 (activations between them hold nothing).
    for (let i = 0; i + 1 < widths.length; i++) {
      out.set(`${block}.coupling.net.${2 * i}.weight`, [widths[i + 1]!, widths[i]!]);
      out.set(`${block}.coupling.net.${2 * i}.bias`, [widths[i + 1]!]);
    }
  }
}

/** Every tensor of a Screener with this (validated) config, by the name its file uses. */
export function tensorManifest(config: ScreenerConfig): TensorManifest {
  const out: TensorManifest = new Map();
  unetTensors(out, 'descriptor', config.descriptor);
  if (config.density.condition === 'masked') unetTensors(out, 'condition', config.condition);
  densityTensors(out, config);
  return out;
}
