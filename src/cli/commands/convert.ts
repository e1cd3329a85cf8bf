import { basename, extname } from 'node:path';

import { UltrafaceError } from '../../core/errors.js';
import { isInputSizeName, NET_VERSIONS, type InputSizeName, type NetVersion } from '../../core/presets.js';
import { describe } from '../../core/validate.js';
import { convertWeightsToOnnx, type StateDictSource } from '../../model/convert.js';
import {
  downloadUpstreamWeights,
  parseUpstreamModelName,
  UPSTREAM_WEIGHTS,
  type UpstreamName,
} from '../../model/import/upstream.js';
import { resolveModelSource } from '../../runtime/node/bundled-models.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import { pinnedUpstreamWeights, readModelFile } from '../../runtime/node/model-file.js';
import { upstreamWeightsPath, type UpstreamCacheOptions } from '../../runtime/node/upstream-cache.js';
import { decodeCheckpoint } from '../../train/checkpoint.js';
import type { CliIo } from '../io.js';

export interface ConvertCommandOptions {
  readonly out: string;
  readonly upstream?: UpstreamName;
  /** Mirror of upstream's `models/pretrained/` folder (default: `$ULTRAFACE_UPSTREAM_URL`, else GitHub). */
  readonly upstreamUrl?: string;
  readonly inputSize?: InputSizeName;
  /** Leave box decoding out of the graph (`boxes` = raw regression). */
  readonly raw?: boolean;
  /** Leave the input height and width free (with `raw`). */
  readonly dynamicSize?: boolean;
  /** Keep BatchNorm nodes instead of folding them. */
  readonly foldBn?: boolean;
}

/** Cache options that tell the user on stderr when upstream's weights are being downloaded. */
export function upstreamCacheNotices(io: CliIo): UpstreamCacheOptions {
  return {
    onDownload: ({ weights, url, path, reason }) => {
      const why = reason === 'corrupt' ? 'the cached copy failed its SHA-256 check; ' : '';
      io.stderr.write(
        `Downloading ${weights.file} (${Math.round(weights.bytes / 1024)} KiB, MIT licence) from ${url}: ${why}` +
          `cached in ${path}\n`,
      );
    },
  };
}

/**
 * A `--model` value as a file the commands read: upstream's weights by name (`upstream:rfb-320`) become a cached
 * ONNX detector, a bundled name its file, a path stays a path.
 */
export const resolveModelOption = (value: string, io: CliIo): Promise<string> =>
  resolveModelSource(value, upstreamCacheNotices(io));

/** A weights file's bytes (E_FILE_NOT_FOUND, or E_INVALID_OPTION for a folder; see `readModelFile`). */
const readSource = (file: string): Promise<Uint8Array> => readModelFile(file);

/** Checkpoint tensors that are not weights: the SGD momentum buffers (src/train/trainer.ts `VELOCITY_PREFIX`). */
const MOMENTUM_PREFIX = 'momentum:';

/**
 * Whether `bytes` are a training checkpoint rather than a `.pth` zip: a `.ckpt` file name, or a zip whose first
 * local entry is the trainer's (`tensors/0.bin`, or `checkpoint.json` when it holds no tensors). The first entry
 * is read from the local header at offset 0, so a truncated checkpoint is still recognised (and then refused).
 */
export function isCheckpoint(bytes: Uint8Array, file: string): boolean {
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
export function readCheckpoint(
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
 * `ultraface import` / `ultraface export`: weights (`.pth`, an ONNX file, a training checkpoint `.ckpt`,
 * `--upstream NAME`, downloaded and checked against its pinned SHA-256, or `upstream:name`, the same through the
 * cache) → an ultraface ONNX model at the chosen input size and variant. A checkpoint's network and input size
 * come from its training config, upstream's from its table.
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
  const upstreamFile = file === undefined ? undefined : parseUpstreamModelName(file);
  const upstreamUrl = options.upstreamUrl ?? (process.env.ULTRAFACE_UPSTREAM_URL || undefined);
  let weights: Uint8Array | StateDictSource;
  let source: string;
  let trainedSize: InputSizeName | undefined;
  if (options.upstream !== undefined) {
    const entry = UPSTREAM_WEIGHTS[options.upstream];
    io.stderr.write(`Downloading ${entry.file} (${Math.round(entry.bytes / 1024)} KiB, MIT licence)...\n`);
    weights = await downloadUpstreamWeights(options.upstream, {
      ...(upstreamUrl === undefined ? {} : { baseUrl: upstreamUrl }),
    });
    source = `upstream ${entry.file} (sha256 ${entry.sha256.slice(0, 12)}…)`;
    trainedSize = entry.inputSize;
  } else if (upstreamFile !== undefined) {
    const entry = UPSTREAM_WEIGHTS[upstreamFile];
    const cache = {
      ...upstreamCacheNotices(io),
      ...(upstreamUrl === undefined ? {} : { baseUrl: upstreamUrl }),
    };
    weights = await readSource(await upstreamWeightsPath(entry.name, cache));
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
      // A local copy of upstream's own file, recognised by its SHA-256, converts as `--upstream NAME` does: at
      // the size it was trained at (version-slim-640.pth → 640x480), not at the 320 default.
      const pinned = pinnedUpstreamWeights(bytes);
      if (pinned !== undefined) {
        trainedSize = pinned.inputSize;
        source = `${file!} (upstream ${pinned.file}, sha256 ${pinned.sha256.slice(0, 12)}…)`;
      }
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
