// `screener configure`: a model file with other prediction options (its anomaly score, the smoothing of
// its maps, what a knn density compares with), the weights unchanged. Training does not depend on these
// options, so a model need not be trained again to carry the ones the quality benchmark chose; predict,
// eval and the page then use them without being told.
import { ANOMALY_OPTIONS, anomalyOptions, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { checkRunPaths, requireSuffix } from '../output-paths';
import { writeFileAtomic } from '../../data/io/atomic-write.node';
import { readFileBytes } from '../../data/io/files.node';
import { describeConfig } from '../../model/describe';
import { screenerFileWithAnomalyOptions } from '../../model/weights';

export const configure = defineCommand({
  name: 'configure',
  summary: "write a model with other prediction options (anomaly score, map smoothing, knn reference and its size), its weights unchanged",
  synopsis: ['screener configure --model M --out M2 [--score nll|latent] [--smooth MM] [--reference bank|scan|both] [--reference-rows N] [--force]'],
  options: {
    model: { type: 'string', value: 'M', description: 'the model file (.safetensors) to start from' },
    out: { type: 'string', value: 'M2', description: 'the model file to write (never M itself)' },
    ...ANOMALY_OPTIONS,
    force: { type: 'boolean', description: 'replace M2 if it exists' },
  },
  notes: ['Prints the new model\'s description. Options not given keep the model\'s own.'],
  async execute(args) {
    const modelPath = stringOption(args, 'model');
    const out = stringOption(args, 'out');
    if (!modelPath) throw new UsageError('--model is required');
    if (!out) throw new UsageError('--out is required');
    requireSuffix('--out', out, /\.safetensors$/i, '.safetensors');
    const options = anomalyOptions(args);
    if (Object.keys(options).length === 0) throw new UsageError('nothing to change: give --score, --smooth, --reference or --reference-rows');
    checkRunPaths({ inputs: [{ option: '--model', path: modelPath }], outputs: [{ option: '--out', path: out }], force: args.options.force === true });
    const { bytes, config } = screenerFileWithAnomalyOptions(readFileBytes(modelPath), options, modelPath);
    writeFileAtomic(out, bytes);
    console.log(`${out}: ${describeConfig(config)}`);
    return 0;
  },
});
