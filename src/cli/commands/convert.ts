import { readFile } from 'node:fs/promises';

import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName } from '../../core/presets.js';
import { convertWeightsToOnnx } from '../../model/convert.js';
import { downloadUpstreamWeights, UPSTREAM_WEIGHTS, type UpstreamName } from '../../model/import/upstream.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import type { CliIo } from '../io.js';

export interface ConvertCommandOptions {
  readonly out: string;
  readonly upstream?: UpstreamName;
  /** Mirror of upstream's `models/pretrained/` folder (default: upstream's GitHub repository). */
  readonly upstreamUrl?: string;
  readonly inputSize?: InputSizeName;
  /** Leave box decoding out of the graph (`boxes` = raw regression). */
  readonly raw?: boolean;
  /** Leave the input height and width free (with `raw`). */
  readonly dynamicSize?: boolean;
  /** Keep BatchNorm nodes instead of folding them. */
  readonly foldBn?: boolean;
}

async function readSource(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new UltrafaceError('E_FILE_NOT_FOUND', `Cannot read ${file}`, { cause });
  }
}

/**
 * `ultraface import` / `ultraface export`: weights (`.pth`, an ONNX file, or `--upstream NAME`, downloaded and
 * checked against its pinned SHA-256) → an ultraface ONNX model at the chosen input size and variant.
 */
export async function runConvert(
  file: string | undefined,
  options: ConvertCommandOptions,
  io: CliIo,
): Promise<number> {
  if ((file === undefined) === (options.upstream === undefined)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      'Expected either a weights file or --upstream NAME, not both or neither',
    );
  }
  if (options.dynamicSize && !options.raw) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      'Expected --raw with --dynamic-size: priors depend on the input size',
    );
  }
  let bytes: Uint8Array;
  let source: string;
  let trainedSize: InputSizeName | undefined;
  if (options.upstream !== undefined) {
    const entry = UPSTREAM_WEIGHTS[options.upstream];
    io.stderr.write(`Downloading ${entry.file} (${Math.round(entry.bytes / 1024)} KiB, MIT licence)...\n`);
    bytes = await downloadUpstreamWeights(options.upstream, {
      ...(options.upstreamUrl === undefined ? {} : { baseUrl: options.upstreamUrl }),
    });
    source = `upstream ${entry.file} (sha256 ${entry.sha256.slice(0, 12)}…)`;
    trainedSize = entry.inputSize;
  } else {
    bytes = await readSource(file!);
    source = file!;
  }
  const { onnx, model, inputSize } = convertWeightsToOnnx(
    bytes,
    {
      ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
      ...(trainedSize === undefined ? {} : { trainedSize }),
      postprocess: !options.raw,
      dynamicInputSize: options.dynamicSize ?? false,
      foldBatchNorm: options.foldBn ?? true,
      source,
    },
    source,
  );
  await writeFileAtomic(options.out, onnx);
  io.stderr.write(
    `Wrote ${options.out}: ${model.version} at ${options.dynamicSize ? 'any' : inputSize} input, ` +
      `${options.raw ? 'raw box regression' : 'decoded boxes'}, ${(onnx.length / 1024).toFixed(0)} KiB\n`,
  );
  return 0;
}
