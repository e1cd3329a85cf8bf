/**
 * Training batches built in worker threads while the training step runs (SPEC §7.3's DataLoader: shuffle,
 * batch 24, last partial batch kept — without its duplicated NumPy RNG, B24).
 *
 * Determinism: a batch depends only on (seed, epoch, batch index) — never on worker scheduling. Each epoch's order
 * is a Fisher–Yates shuffle from `createRandom(seed, STREAM_SHUFFLE, epoch)`; each sample's augmentation draws from
 * `createRandom(seed, STREAM_AUGMENT, epoch, sampleIndex)`. So 0, 1 or 8 workers give identical bytes, and a run
 * resumed at `position` continues exactly where it stopped (pass the saved position back as `start`).
 *
 * Bad images: by default the batch fails and `next()` rejects with E_DATASET naming the file (a training run
 * should not silently shrink its data). With `onBadImage`, such images are left out of their batch (which is then
 * smaller) and each error is passed to the callback when that batch is returned.
 *
 * Workers hold the process open only while they have work, so a forgotten `close()` never hangs an exit; call it
 * anyway to free their memory.
 */
import { Worker } from 'node:worker_threads';

import { UltrafaceError, type ErrorCode } from '../core/errors.js';
import { assertRgbImage } from '../core/image.js';
import { DEFAULT_MATCH_THRESHOLD } from '../core/matching.js';
import { INPUT_SIZES, isInputSizeName, type InputSize, type InputSizeName } from '../core/presets.js';
import { priorCount } from '../core/priors.js';
import { createRandom } from '../core/random.js';
import { describe, integerInRange, invalidOption, knownKeys, numberInRange } from '../core/validate.js';
import { deserializeError, spawnSiblingWorker } from '../runtime/node/worker.js';
import { resolveAugmentOptions, type AugmentOptionsInput } from './augment/index.js';
import type { BatchWorkerData, WireBatch, WorkerReply, WorkerRequest } from './batch-worker.js';
import {
  createBatchBuilder,
  STREAM_SHUFFLE,
  type BatchBuildConfig,
  type BatchTask,
  type TrainingBatch,
  type TrainingSample,
} from './training-set.js';

export interface BatchPosition {
  readonly epoch: number;
  /** Batch index within the epoch. */
  readonly batch: number;
}

export interface BatchSourceOptions {
  readonly samples: readonly TrainingSample[];
  /** Network input: a preset name (320 → 320x240) or an InputSize. */
  readonly inputSize: InputSizeName | InputSize;
  /** Images per batch. Default 24 (`train.py --batch_size`). */
  readonly batchSize?: number;
  /** Default 0. */
  readonly seed?: number;
  /** Default 'default' (see augment.ts); 'upstream' reproduces upstream's effective recipe; 'none' validates. */
  readonly augment?: AugmentOptionsInput;
  /** Prior matching IoU threshold. Default 0.35. */
  readonly matchThreshold?: number;
  /** Reshuffle every epoch. Default true (false: list order, e.g. for validation). */
  readonly shuffle?: boolean;
  /** Drop the last, smaller batch of each epoch. Default false (upstream keeps it). */
  readonly dropLast?: boolean;
  /** Worker threads. Default 1; 0 builds batches in the calling thread, on demand (no prefetch). */
  readonly workers?: number;
  /** Batches built ahead of the one being consumed (with workers). Default 2. */
  readonly prefetch?: number;
  /** Where to begin (a saved `position`). Default epoch 0, batch 0. */
  readonly start?: BatchPosition;
  /** Images with more pixels are refused as bad images. Default 100 M. */
  readonly maxPixels?: number;
  /** Skip undecodable images, reporting each here, instead of failing their batch. */
  readonly onBadImage?: (error: UltrafaceError) => void;
  /**
   * Also give each batch its inputs without the photometric distortion (`TrainingBatch.undistortedImages`), for a
   * distillation teacher. Default false.
   */
  readonly undistortedImages?: boolean;
}

export interface BatchSource {
  readonly batchesPerEpoch: number;
  readonly sampleCount: number;
  readonly inputSize: InputSize;
  readonly priorCount: number;
  /** The batch the next `next()` returns; save it with a checkpoint to resume there. */
  readonly position: BatchPosition;
  /** The batch at `position`, then advances (epochs roll over; the source never ends). */
  next(): Promise<TrainingBatch>;
  /** Terminates the workers; batches in flight are dropped. Idempotent. */
  close(): Promise<void>;
}

const OPTION_KEYS = [
  'samples',
  'inputSize',
  'batchSize',
  'seed',
  'augment',
  'matchThreshold',
  'shuffle',
  'dropLast',
  'workers',
  'prefetch',
  'start',
  'maxPixels',
  'onBadImage',
  'undistortedImages',
];
const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * The sample order of an epoch: a seeded permutation of 0..count−1 (or the identity without shuffling).
 * Pure; batch b of the epoch is `order.subarray(b · batchSize, (b + 1) · batchSize)`.
 */
export function epochOrder(seed: number, epoch: number, count: number, shuffle = true): Uint32Array {
  if (!shuffle) return Uint32Array.from({ length: count }, (_, i) => i);
  return createRandom(seed, STREAM_SHUFFLE, epoch).permutation(count);
}

/**
 * @throws UltrafaceError E_INVALID_OPTION for bad options, E_INVALID_INPUT for a malformed sample
 */
export function createBatchSource(options: BatchSourceOptions): BatchSource {
  knownKeys('batch source options', options, OPTION_KEYS);
  const { samples } = options;
  if (!Array.isArray(samples) || samples.length === 0) {
    throw invalidOption('samples', 'a non-empty array of training samples', samples);
  }
  samples.forEach(checkSample);
  const inputSize = resolveInputSize(options.inputSize);
  const batchSize = integerInRange('batchSize', options.batchSize ?? 24, 1, 65_536);
  const seed = integerInRange('seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const augment = resolveAugmentOptions(options.augment ?? 'default');
  const matchThreshold = numberInRange(
    'matchThreshold',
    options.matchThreshold ?? DEFAULT_MATCH_THRESHOLD,
    0,
    1,
  );
  const shuffle = options.shuffle ?? true;
  const dropLast = options.dropLast ?? false;
  const workerCount = integerInRange('workers', options.workers ?? 1, 0, 64);
  const prefetch = workerCount === 0 ? 0 : integerInRange('prefetch', options.prefetch ?? 2, 1, 16);
  const maxPixels = integerInRange('maxPixels', options.maxPixels ?? DEFAULT_MAX_PIXELS, 1, 2 ** 40);
  const onBadImage = options.onBadImage;
  if (onBadImage !== undefined && typeof onBadImage !== 'function') {
    throw invalidOption('onBadImage', 'a function', onBadImage);
  }
  const undistortedImages = options.undistortedImages ?? false;
  if (typeof undistortedImages !== 'boolean') {
    throw invalidOption('undistortedImages', 'a boolean', undistortedImages);
  }
  const batchesPerEpoch = dropLast
    ? Math.floor(samples.length / batchSize)
    : Math.ceil(samples.length / batchSize);
  if (batchesPerEpoch === 0) {
    throw invalidOption('batchSize', `at most ${samples.length} (the sample count) with dropLast`, batchSize);
  }
  const start = options.start ?? { epoch: 0, batch: 0 };
  if (typeof (start as unknown) !== 'object' || (start as unknown) === null) {
    throw invalidOption('start', 'a position { epoch, batch }', start);
  }
  integerInRange('start.epoch', start.epoch, 0, 1e9);
  integerInRange('start.batch', start.batch, 0, batchesPerEpoch - 1);

  const config: BatchBuildConfig = {
    samples,
    inputSize,
    augment,
    matchThreshold,
    seed,
    maxPixels,
    skipBadImages: onBadImage !== undefined,
    undistortedImages,
  };
  const pool = workerCount === 0 ? undefined : new WorkerPool(workerCount, config);
  const run = pool === undefined ? inThread(config) : pool.run;

  const orders = new Map<number, Uint32Array>();
  const taskAt = (g: number): BatchTask => {
    const epoch = Math.floor(g / batchesPerEpoch);
    const index = g % batchesPerEpoch;
    let order = orders.get(epoch);
    if (order === undefined) {
      order = epochOrder(seed, epoch, samples.length, shuffle);
      orders.set(epoch, order);
      for (const e of orders.keys()) if (e < epoch - 1) orders.delete(e);
    }
    return {
      epoch,
      index,
      sampleIndices: Array.from(order.subarray(index * batchSize, (index + 1) * batchSize)),
    };
  };

  let cursor = start.epoch * batchesPerEpoch + start.batch; // global batch number of `position`
  const state = { closed: false };
  const isClosed = (): boolean => state.closed; // read after an await (TS keeps the earlier narrowing)
  const inflight = new Map<number, Promise<TrainingBatch>>();
  const schedule = (g: number): void => {
    if (inflight.has(g)) return;
    const promise = run(taskAt(g));
    promise.catch(() => undefined); // awaited by next(); never an unhandled rejection when dropped
    inflight.set(g, promise);
  };

  const next = async (): Promise<TrainingBatch> => {
    if (state.closed) throw new UltrafaceError('E_DISPOSED', 'The batch source was closed');
    const g = cursor++;
    for (let ahead = g; ahead <= g + prefetch; ahead++) schedule(ahead);
    const promise = inflight.get(g)!;
    inflight.delete(g);
    try {
      const batch = await promise;
      if (onBadImage !== undefined) for (const { error } of batch.skipped) onBadImage(error);
      return batch;
    } catch (error) {
      if (isClosed()) {
        throw new UltrafaceError('E_DISPOSED', 'The batch source was closed', { cause: error });
      }
      cursor = Math.min(cursor, g); // position stays on the failed batch
      throw error;
    }
  };

  const close = async (): Promise<void> => {
    if (state.closed) return;
    state.closed = true;
    inflight.clear();
    await pool?.terminate();
  };

  return {
    batchesPerEpoch,
    sampleCount: samples.length,
    inputSize,
    priorCount: priorCount(inputSize),
    get position(): BatchPosition {
      return { epoch: Math.floor(cursor / batchesPerEpoch), batch: cursor % batchesPerEpoch };
    },
    next,
    close,
  };
}

function resolveInputSize(value: unknown): InputSize {
  if (isInputSizeName(value)) return INPUT_SIZES[value];
  const given = typeof value === 'object' && value !== null ? (value as Partial<InputSize>) : {};
  const preset = Object.values(INPUT_SIZES).find(
    (size) => size.name === given.name && size.width === given.width && size.height === given.height,
  );
  if (preset === undefined) {
    throw invalidOption('inputSize', 'one of 128, 160, 320, 480, 640, 1280 or an INPUT_SIZES entry', value);
  }
  return preset;
}

function checkSample(sample: TrainingSample, index: number): void {
  const fail = (what: string): never => {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected ${what} in training sample ${index} (id ${describe(sample.id)})`,
    );
  };
  if (typeof (sample as unknown) !== 'object' || (sample as unknown) === null) fail('an object');
  if (typeof sample.id !== 'string') fail('a string id');
  if (typeof sample.image !== 'string') assertRgbImage(sample.image, `samples[${index}].image`);
  if (sample.boxes.length !== 4 * sample.labels.length) {
    fail(`4 box values per label (${sample.labels.length} labels, ${sample.boxes.length} values)`);
  }
}

function inThread(config: BatchBuildConfig): (task: BatchTask) => Promise<TrainingBatch> {
  const builder = createBatchBuilder(config);
  return (task) => builder.build(task);
}

interface Job {
  readonly id: number;
  readonly task: BatchTask;
  readonly resolve: (batch: TrainingBatch) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

/** Workers that each build one batch at a time; jobs wait in a FIFO queue for the first free worker. */
class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #failure: Error | undefined;
  #terminating = false;

  constructor(count: number, config: BatchBuildConfig) {
    const data: BatchWorkerData = { kind: 'ultraface-batch-worker', config };
    for (let i = 0; i < count; i++) {
      const slot: Slot = {
        worker: spawnSiblingWorker(import.meta.url, 'batch-worker', data),
        job: undefined,
      };
      slot.worker.unref(); // held open only while it has a job
      slot.worker.on('message', (reply: WorkerReply) => {
        this.#settle(slot, reply);
      });
      slot.worker.on('error', (error) => {
        this.#fail(new Error(`Batch worker failed: ${error.message}`, { cause: error }));
      });
      slot.worker.on('exit', (code) => {
        if (!this.#terminating) this.#fail(new Error(`Batch worker exited unexpectedly (code ${code})`));
      });
      this.#slots.push(slot);
    }
  }

  readonly run = (task: BatchTask): Promise<TrainingBatch> =>
    new Promise<TrainingBatch>((resolve, reject) => {
      if (this.#failure !== undefined) {
        reject(this.#failure);
        return;
      }
      this.#queue.push({ id: this.#nextId++, task, resolve, reject });
      this.#dispatch();
    });

  async terminate(): Promise<void> {
    this.#terminating = true;
    const closed = new UltrafaceError('E_DISPOSED', 'The batch source was closed');
    this.#failure ??= closed;
    for (const job of this.#queue.splice(0)) job.reject(closed);
    for (const slot of this.#slots) {
      slot.job?.reject(closed);
      slot.job = undefined;
    }
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job !== undefined) continue;
      const job = this.#queue.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, task: job.task } satisfies WorkerRequest);
    }
  }

  #settle(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (job?.id !== reply.id) return; // a reply after terminate()
    slot.job = undefined;
    slot.worker.unref();
    if ('error' in reply) job.reject(deserializeError(reply.error));
    else job.resolve(fromWire(reply.batch));
    this.#dispatch();
  }

  #fail(error: Error): void {
    if (this.#terminating) return;
    this.#failure ??= error;
    for (const job of this.#queue.splice(0)) job.reject(error);
    for (const slot of this.#slots) {
      slot.job?.reject(error);
      slot.job = undefined;
      slot.worker.unref();
    }
  }
}

function fromWire(batch: WireBatch): TrainingBatch {
  return {
    ...batch,
    skipped: batch.skipped.map((s) => ({
      index: s.index,
      error: new UltrafaceError(s.error.code as ErrorCode, s.error.message), // always E_DATASET
    })),
  };
}
