// The loss of one training step of each stage, as a graph on the device (no readback):
//  - descriptor / condition: dense SSL. Both views go through the network in one batch, the embeddings
//    at the matched positions are gathered, projected by the MLP head and compared with DenseVICReg
//    or DenseInfoNCE; every other sampled voxel of the batch is a negative.
//  - density: the mean NLL per pooled voxel of noisy pooled descriptors given pooled conditions, with
//    the descriptor and condition networks frozen.
import type { Runtime } from '../gpu/runtime';
import { add, deriveSeed, fromArray, gatherVoxels, infoNCE, mean, type MLP, noGrad, randomNormal, type Tensor, vicreg } from '../graph/index';
import type { ScreenerConfig } from '../model/config';
import type { Screener } from '../model/screener';
import type { DenseUNet } from '../model/unet';
import type { DensityBatch, SslBatch } from './batches';

export function sslLoss(runtime: Runtime, config: ScreenerConfig, network: DenseUNet, projector: MLP, batch: SslBatch): Tensor {
  const images = fromArray(runtime, batch.images, batch.shape);
  const maps = network.forward(images);
  const k = batch.coords[0].length / 4;
  const za = projector.forward(gatherVoxels(maps, fromArray(runtime, batch.coords[0], [k, 4], { dtype: 'i32' })));
  const zb = projector.forward(gatherVoxels(maps, fromArray(runtime, batch.coords[1], [k, 4], { dtype: 'i32' })));
  if (config.ssl.loss === 'infonce') return infoNCE(za, zb, { temperature: config.ssl.temperature });
  const [invarianceWeight, varianceWeight, covarianceWeight] = config.ssl.vicregWeights;
  return vicreg(za, zb, { invarianceWeight, varianceWeight, covarianceWeight }).loss;
}

/** `noiseSeed` seeds the Gaussian noise (sigma config.density.noiseStd) added to the pooled maps. */
export function densityLoss(runtime: Runtime, model: Screener, batch: DensityBatch, noiseSeed: number): Tensor {
  const images = fromArray(runtime, batch.images, batch.shape);
  const sigma = model.config.density.noiseStd;
  const { descriptor, condition } = noGrad(() => model.pooledMaps(images, { toScan: batch.toScan, scanShape: batch.scanShape }));
  const noisy = (t: Tensor, index: number) => (sigma > 0 ? add(t, randomNormal(runtime, t.shape, deriveSeed(noiseSeed, index), 0, sigma)) : t);
  // The learned condition is a feature map like the descriptor and gets the same noise; the sin-cos
  // code is exact geometry and stays clean.
  const cond = condition && model.config.density.condition === 'masked' ? noisy(condition, 1) : condition;
  return mean(model.density.nll(noisy(descriptor, 0), cond));
}
