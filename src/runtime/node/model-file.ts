import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { UltrafaceError } from '../../core/errors.js';
import { convertWeightsToOnnx } from '../../model/convert.js';
import { sniffWeightsFormat } from '../../model/import/weights-file.js';
import { UPSTREAM_MODEL_NAMES, UPSTREAM_WEIGHTS, type UpstreamWeights } from '../../model/import/upstream.js';
import { BUNDLED_MODEL_NAMES } from './bundled-models.js';

/**
 * The bytes of a model or weights file. `path` is a file path; a bare name (no folder) that is no file is most
 * likely a mistyped model name, so that message lists the names `--model` takes.
 * @throws UltrafaceError E_FILE_NOT_FOUND (no such file), E_INVALID_OPTION (a folder), E_MODEL_LOAD (unreadable)
 */
export async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected a model file but ${path} is a folder; pass one of its .onnx or .pth files`,
        { cause },
      );
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const bare = basename(path) === path;
      const names = bare
        ? `; it is not a model name either (bundled: ${BUNDLED_MODEL_NAMES.join(', ')}; upstream's: ` +
          `${UPSTREAM_MODEL_NAMES.join(', ')})`
        : '';
      throw new UltrafaceError('E_FILE_NOT_FOUND', `No such model file: ${path}${names}`, { cause });
    }
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Cannot read the model file ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/**
 * Upstream's official weights file these bytes are, recognised by its pinned SHA-256 (`UPSTREAM_WEIGHTS`), so a
 * local copy of `version-slim-640.pth` converts at the size it was trained at (640x480), as `--upstream slim-640`
 * does; `undefined` for any other bytes.
 */
export function pinnedUpstreamWeights(bytes: Uint8Array): UpstreamWeights | undefined {
  const digest = createHash('sha256').update(bytes).digest('hex');
  return Object.values(UPSTREAM_WEIGHTS).find((weights) => weights.sha256 === digest);
}

/**
 * A model for the detector as ONNX bytes: an ONNX file as it is; a weights file (`.pth`, legacy or zip) converted
 * in memory as `ultraface import` converts it (BatchNorm folded, boxes decoded in the graph), at its trained size
 * when it is one of upstream's pinned files, else 320x240.
 * @throws UltrafaceError E_WEIGHTS_FORMAT, E_WEIGHTS_MISMATCH for weights that cannot be read or do not fit
 */
export function detectorOnnx(bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length === 0 || sniffWeightsFormat(bytes) === 'onnx') return bytes;
  const pinned = pinnedUpstreamWeights(bytes);
  return convertWeightsToOnnx(
    bytes,
    { ...(pinned === undefined ? {} : { trainedSize: pinned.inputSize }), source },
    source,
  ).onnx;
}
