import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import { UltrafaceError } from '../../core/errors.js';
import { isInputSizeName, NET_VERSIONS, type InputSizeName, type NetVersion } from '../../core/presets.js';
import { describe } from '../../core/validate.js';
import { convertWeightsToOnnx, type StateDictSource } from '../../model/convert.js';
import { downloadUpstreamWeights, UPSTREAM_WEIGHTS, type UpstreamName } from '../../model/import/upstream.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import { decodeCheckpoint } from '../../train/checkpoint.js';
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

/** Checkpoint tensors that are not weights: the SGD momentum buffers (src/train/trainer.ts `VELOCITY_PREFIX`). */
const MOMENTUM_PREFIX = 'momentum:';

/**
 * Whether `bytes` are a training checkpoint rather than a `.pth` zip: a `.ckpt` file name, or a zip whose first
 * local entry is the trainer's (`tensors/0.bin`, or `checkpoint.json` when it holds no tensors). The first entry
 * is read from the local header at offset 0, so a truncated checkpoint is still recognised (and then refused).
 */
function isCheckpoint(bytes: Uint8Array, file: string): boolean {
  if (extname(file).toLowerCase() === '.ckpt') return true;
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!zip || bytes.length < 30) return false;
  const nameLength = bytes[26] | (bytes[27] << 8); // ZIP local file header: name length at 26, name at 30
  const name = new TextDecoder().decode(bytes.subarray(30, 30 + nameLength));
  return name.startsWith('tensors/') || name === 'checkpoint.json';
}

const isNetVersion = (value: unknown): value is NetVersion => NET_VERSIONS.includes(value as NetVersion);

/** The part of the trainer's checkpoint state that export reads; checked, since a file can hold anything. */
interface CheckpointState {
  readonly config?: { readonly net?: unknown; readonly inputSize?: unknown };
  readonly step?: unknown;
}

/**
 * A training checkpoint's state dict (momentum buffers dropped), its network and training input size.
 * @throws UltrafaceError E_CHECKPOINT for a malformed or truncated checkpoint or one without a usable config
 */
function readCheckpoint(
  bytes: Uint8Array,
  file: string,
): { weights: StateDictSource; trainedSize: InputSizeName; source: string } {
  const { state, tensors } = decodeCheckpoint<CheckpointState | null>(bytes, file);
  const net = state?.config?.net;
  const size = state?.config?.inputSize;
  if (!isNetVersion(net) || !isInputSizeName(size)) {
    throw new UltrafaceError(
      'E_CHECKPOINT',
      `Expected config.net (${NET_VERSIONS.join(' or ')}) and config.inputSize in the checkpoint ${file} but ` +
        `received ${describe(net)} and ${describe(size)}`,
    );
  }
  const weights = new Map([...tensors].filter(([name]) => !name.startsWith(MOMENTUM_PREFIX)));
  const step = typeof state?.step === 'number' ? `, step ${state.step}` : '';
  return {
    weights: { weights, net },
    trainedSize: size,
    source: `${basename(file)} (ultraface train ${net}-${size}${step})`,
  };
}

/**
 * `ultraface import` / `ultraface export`: weights (`.pth`, an ONNX file, a training checkpoint `.ckpt`, or
 * `--upstream NAME`, downloaded and checked against its pinned SHA-256) → an ultraface ONNX model at the chosen
 * input size and variant. A checkpoint's network and input size come from its training config.
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
  let weights: Uint8Array | StateDictSource;
  let source: string;
  let trainedSize: InputSizeName | undefined;
  if (options.upstream !== undefined) {
    const entry = UPSTREAM_WEIGHTS[options.upstream];
    io.stderr.write(`Downloading ${entry.file} (${Math.round(entry.bytes / 1024)} KiB, MIT licence)...\n`);
    weights = await downloadUpstreamWeights(options.upstream, {
      ...(options.upstreamUrl === undefined ? {} : { baseUrl: options.upstreamUrl }),
    });
    source = `upstream ${entry.file} (sha256 ${entry.sha256.slice(0, 12)}…)`;
    trainedSize = entry.inputSize;
  } else {
    const bytes = await readSource(file!);
    if (isCheckpoint(bytes, file!)) {
      const checkpoint = readCheckpoint(bytes, file!);
      weights = checkpoint.weights;
      trainedSize = checkpoint.trainedSize;
      source = checkpoint.source;
    } else {
      weights = bytes;
      source = file!;
    }
  }
  const { onnx, model, inputSize } = convertWeightsToOnnx(
    weights,
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
