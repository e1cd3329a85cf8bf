import { readFile } from 'node:fs/promises';

import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';

import { UltrafaceError } from '../core/errors.js';
import type { WeightTensor } from '../model/weights.js';
import { writeFileAtomic } from '../runtime/node/files.js';

/**
 * Training checkpoints: a zip (stored, not compressed) holding `checkpoint.json` (the trainer's JSON state: epoch,
 * step, RNG states, options, history) and one raw little-endian tensor per entry under `tensors/` (weights,
 * BN statistics, momentum buffers). Written atomically, so a kill mid-write leaves the previous checkpoint intact.
 */
export interface Checkpoint<State> {
  readonly state: State;
  readonly tensors: ReadonlyMap<string, WeightTensor>;
}

const FORMAT = 'ultraface-checkpoint-1';

interface TensorEntry {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int64';
}

export function encodeCheckpoint<State>(checkpoint: Checkpoint<State>): Uint8Array {
  const index: Record<string, TensorEntry> = {};
  const files: Zippable = {};
  let i = 0;
  for (const [name, tensor] of checkpoint.tensors) {
    index[name] = { shape: tensor.shape, dtype: tensor.data instanceof Float32Array ? 'float32' : 'int64' };
    const { buffer, byteOffset, byteLength } = tensor.data;
    files[`tensors/${i++}.bin`] = new Uint8Array(buffer.slice(byteOffset, byteOffset + byteLength));
  }
  files['checkpoint.json'] = strToU8(
    JSON.stringify({ format: FORMAT, tensors: index, state: checkpoint.state }),
  );
  return zipSync(files, { level: 0 });
}

export function decodeCheckpoint<State>(bytes: Uint8Array, source = 'checkpoint'): Checkpoint<State> {
  const bad = (what: string, cause?: unknown): UltrafaceError =>
    new UltrafaceError('E_CHECKPOINT', `Expected an ultraface training checkpoint in ${source} but ${what}`, {
      cause,
    });
  let files: Record<string, Uint8Array>;
  let header: { format?: unknown; tensors?: Record<string, TensorEntry>; state?: State };
  try {
    files = unzipSync(bytes);
    header = JSON.parse(strFromU8(files['checkpoint.json'] ?? new Uint8Array())) as typeof header;
  } catch (cause) {
    throw bad('it is not a readable zip with checkpoint.json', cause);
  }
  if (header.format !== FORMAT || !header.tensors || header.state === undefined)
    throw bad('its header is not one');
  const tensors = new Map<string, WeightTensor>();
  Object.entries(header.tensors).forEach(([name, entry], i) => {
    const file = `tensors/${i}.bin`;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const width = entry.dtype === 'float32' ? 4 : 8;
    if (!Object.hasOwn(files, file) || files[file].length !== count * width) {
      throw bad(`tensor ${name} is missing or has the wrong size`);
    }
    const aligned = new Uint8Array(files[file]).buffer;
    tensors.set(name, {
      shape: entry.shape,
      data: entry.dtype === 'float32' ? new Float32Array(aligned) : new BigInt64Array(aligned),
    });
  });
  return { state: header.state, tensors };
}

export async function saveCheckpoint<State>(path: string, checkpoint: Checkpoint<State>): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

export async function loadCheckpoint<State>(path: string): Promise<Checkpoint<State>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new UltrafaceError('E_FILE_NOT_FOUND', `Cannot read the checkpoint ${path}`, { cause });
  }
  return decodeCheckpoint<State>(bytes, path);
}
