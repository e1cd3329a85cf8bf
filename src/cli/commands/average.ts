import { UltrafaceError } from '../../core/errors.js';
import { inputSizeFromDims, type InputSizeName, type NetVersion } from '../../core/presets.js';
import { averageWeights, type PartMix } from '../../model/average.js';
import { convertWeightsToOnnx } from '../../model/convert.js';
import { readWeightsFile } from '../../model/import/weights-file.js';
import type { Weights } from '../../model/weights.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import { pinnedUpstreamWeights, readModelFile } from '../../runtime/node/model-file.js';
import type { CliIo } from '../io.js';
import { isCheckpoint, readCheckpoint } from './convert.js';

export interface AverageCommandOptions {
  readonly out: string;
  /** One weight ≥ 0 per model, not all 0 (default: equal). */
  readonly weights?: readonly number[];
  /** `prefix=w1,w2,…`: another mix for the tensors under a prefix, e.g. `classification_headers.0=1,0`. */
  readonly part?: readonly string[];
  /** Input size of the written model (default: the first model's training size, else 320). */
  readonly inputSize?: InputSizeName;
  readonly raw?: boolean;
  readonly foldBn?: boolean;
}

interface AverageInput {
  readonly weights: Weights;
  readonly net?: NetVersion;
  readonly trainedSize?: InputSizeName;
}

/** A training checkpoint, `.pth` or ONNX file's state dict, with its network and training size where known. */
async function readInput(file: string): Promise<AverageInput> {
  const bytes = await readModelFile(file);
  if (isCheckpoint(bytes, file)) {
    const { weights, trainedSize } = readCheckpoint(bytes, file);
    return { weights: weights.weights, ...(weights.net ? { net: weights.net } : {}), trainedSize };
  }
  const imported = readWeightsFile(bytes, file);
  // Both networks have BatchNorm after every conv: weights without its statistics were folded into the convs,
  // and the mean of folded weights is not the folded mean (the scales differ per model).
  if (![...imported.weights.keys()].some((name) => name.endsWith('.running_var'))) {
    throw new UltrafaceError(
      'E_WEIGHTS_MISMATCH',
      `${file} has its BatchNorm folded into the convolutions; average unfolded weights: training checkpoints, ` +
        `.pth files or exports made with --no-fold-bn`,
    );
  }
  const fromOnnx = imported.onnx?.metadata?.trainedSize;
  const trainedSize =
    pinnedUpstreamWeights(bytes)?.inputSize ??
    (fromOnnx && inputSizeFromDims(fromOnnx.width, fromOnnx.height)?.name);
  return { weights: imported.weights, ...(trainedSize ? { trainedSize } : {}) };
}

/** `--part base_net.7=1,0` → { prefix: 'base_net.7', mix: [1, 0] }. */
function parsePart(text: string): PartMix {
  const at = text.lastIndexOf('=');
  const mix = text
    .slice(at + 1)
    .split(',')
    .map((w) => (w.trim() === '' ? Number.NaN : Number(w)));
  if (at <= 0 || mix.some((w) => !Number.isFinite(w))) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected --part as <prefix>=<weight per model>, e.g. classification_headers.0=1,0, but received ${text}`,
    );
  }
  return { prefix: text.slice(0, at), mix };
}

/**
 * `ultraface average`: several models of one network (training checkpoints, `.pth`, unfolded ONNX) → one ONNX
 * model whose weights are their weighted mean (`averageWeights`). Used to combine stages of one training lineage,
 * e.g. weights fine-tuned at 640×480 with their parent trained at 320×240 (models/README.md, Recipes).
 */
export async function runAverage(
  files: readonly string[],
  options: AverageCommandOptions,
  io: CliIo,
): Promise<number> {
  const parts = (options.part ?? []).map(parsePart);
  const inputs = await Promise.all(files.map(readInput));
  const averaged = averageWeights(
    inputs.map((input) => input.weights),
    options.weights,
    parts,
  );
  const shares = options.weights ?? files.map(() => 1);
  const source =
    `average of ${files.map((f, i) => `${f} ×${shares[i]}`).join(', ')}` +
    parts.map((part) => `; ${part.prefix} ×${part.mix.join(', ×')}`).join('');
  const trainedSize = inputs[0].trainedSize;
  const { onnx, model, inputSize } = convertWeightsToOnnx(
    { weights: averaged, ...(inputs[0].net ? { net: inputs[0].net } : {}) },
    {
      ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
      ...(trainedSize === undefined ? {} : { trainedSize }),
      postprocess: !options.raw,
      foldBatchNorm: options.foldBn ?? true,
      source,
    },
    source,
  );
  await writeFileAtomic(options.out, onnx);
  io.stderr.write(
    `Wrote ${options.out}: ${model.version} at ${inputSize} input, ${source}, ${(onnx.length / 1024).toFixed(0)} KiB\n`,
  );
  return 0;
}
