/**
 * Runs the compiled training graph on one batch: in one onnxruntime session, or data parallel — the batch split
 * into shards, one session per shard in its own worker thread (one onnxruntime thread each), the results
 * combined. The graph's small kernels scale poorly over threads inside one session (synchronisation costs about
 * what it saves); independent sessions on half batches keep both cores busy.
 *
 * Data parallel is exact for the loss and gradients except for BatchNorm, which normalizes each shard with the
 * shard's own statistics, as PyTorch's DataParallel does: the shard losses are Σ/max(n_i, 1) over the shard's
 * positives n_i, so weighting them by max(n_i, 1)/max(n, 1) gives the batch loss Σ/max(n, 1) (SPEC §5.4) and
 * its gradient. The running-statistics update gets the exact statistics of the whole batch.
 */
import type { Worker } from 'node:worker_threads';

import * as ort from 'onnxruntime-node';

import { UltrafaceError } from '../core/errors.js';
import type { ModelGraph } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';
import { createSession } from '../runtime/node/session.js';
import { deserializeError, spawnSiblingWorker, type SerializedError } from '../runtime/node/worker.js';
import {
  batchMeanOutput,
  batchVarianceOutput,
  LOSS_CLASSIFICATION_OUTPUT,
  LOSS_DISTILL_CLASSIFICATION_OUTPUT,
  LOSS_DISTILL_FEATURES_OUTPUT,
  LOSS_DISTILL_REGRESSION_OUTPUT,
  LOSS_REGRESSION_OUTPUT,
  type CompiledTrainingGraph,
  type TrainingGraphValue,
  type TrainingInputRole,
} from './compile.js';

/** The part of a batch the graph reads. */
export interface StepBatch {
  /** N, images in the batch. */
  readonly size: number;
  /** [N, 3, H, W] float32, (v − 127) / 128. */
  readonly images: Float32Array;
  /** [N, P] class per prior, 0 = background. */
  readonly labels: Int32Array;
  /** [N, P, 4] encoded regression targets. */
  readonly locations: Float32Array;
  /**
   * With a distillation graph: [N, P, C] teacher class probabilities, [N, P, 4] its raw regression, and [N, P]
   * where it teaches (teacher.ts `distillationMask`).
   */
  readonly teacherScores?: Float32Array;
  readonly teacherLocations?: Float32Array;
  readonly distillMask?: Float32Array;
  /** With `distillationBoxMask`: [N, P] where the box term runs. */
  readonly distillBoxMask?: Float32Array;
  /** With a feature-distillation graph: [N, C, H, W] the teacher's first-level head feature map. */
  readonly teacherFeatures?: Float32Array;
}

/** The distillation loss terms of a step (or their mean over an epoch). */
export interface DistillationTerms {
  readonly regression: number;
  readonly classification: number;
  /** The feature term, with a feature-distillation graph. */
  readonly features?: number;
}

export interface StepResult {
  readonly regression: number;
  readonly classification: number;
  /** The distillation terms, with a distillation graph (already in the gradients). */
  readonly distillation?: DistillationTerms;
  /** d(regression + classification)/dθ per learnable parameter (state-dict key). */
  readonly gradients: ReadonlyMap<string, Float32Array>;
  /** Per BatchNorm module: the batch mean and unbiased variance per channel. */
  readonly batchStats: ReadonlyMap<string, { readonly mean: Float32Array; readonly variance: Float32Array }>;
}

export interface StepRunner {
  /** Sessions a batch is split over (1: one in-process session). */
  readonly shards: number;
  /** Forward, loss and backward of one batch with these parameter values (state-dict key → data). */
  run(batch: StepBatch, params: ReadonlyMap<string, Float32Array>): Promise<StepResult>;
  release(): Promise<void>;
}

export interface StepRunnerOptions {
  /** onnxruntime threads in all (default: onnxruntime's choice, one per core). */
  readonly threads?: number;
  /** Shards (worker sessions); default 1. Each session gets max(1, ⌊threads / shards⌋) threads. */
  readonly shards?: number;
}

/** Graph outputs, by name (float32 only: losses, gradients, batch statistics). */
export type GraphOutputs = Readonly<Record<string, Float32Array>>;

export async function createStepRunner(
  graph: ModelGraph,
  compiled: CompiledTrainingGraph,
  options: StepRunnerOptions = {},
): Promise<StepRunner> {
  if (compiled.mode !== 'train')
    throw new Error('createStepRunner: expected a training graph compiled in train mode');
  const shards = options.shards ?? 1;
  if (shards === 1) {
    const session = await createSession(compiled.onnx, 'the training graph', options.threads);
    return {
      shards,
      run: async (batch, params) =>
        readResult(compiled, outputsOf(await session.run(graphFeeds(compiled.inputs, batch, params)))),
      release: () => session.release(),
    };
  }
  const threadsPerShard = Math.max(1, Math.floor((options.threads ?? shards) / shards));
  const workers = new ShardWorkers(shards, {
    kind: 'ultraface-step-worker',
    onnx: compiled.onnx,
    inputs: compiled.inputs,
    threads: threadsPerShard,
  });
  try {
    await workers.ready;
  } catch (error) {
    await workers.terminate();
    throw error;
  }
  const spatial = batchNormSpatialSizes(graph, compiled);
  return {
    shards,
    run: async (batch, params) => {
      const parts = splitBatch(batch, shards);
      const sizes = parts.map((part) => ({ images: part.size, positives: countPositives(part.labels) }));
      const plain: Record<string, Float32Array> = Object.fromEntries(params);
      // (the shards' buffers are transferred to the workers)
      const outputs = await Promise.all(
        parts.map((part, i) => workers.run(i, { batch: part, params: plain })),
      );
      return combineShardResults(
        compiled,
        outputs.map((o) => readResult(compiled, o)),
        sizes,
        spatial,
      );
    },
    release: () => workers.terminate(),
  };
}

/** Values of a BatchNorm statistic per image: H·W of the module's input, by module name. */
function batchNormSpatialSizes(graph: ModelGraph, compiled: CompiledTrainingGraph): Map<string, number> {
  const image = compiled.inputs.find((v) => v.role === 'image')!;
  const [, , height, width] = image.shape as readonly [unknown, unknown, number, number];
  const shapes = inferShapes(graph, width, height);
  return new Map(
    compiled.batchNorms.map((bn) => {
      const [, h, w] = shapes.get(bn.input)!;
      return [bn.name, h * w];
    }),
  );
}

/** The graph's inputs for a batch: images, targets and parameters. */
export function graphFeeds(
  inputs: readonly TrainingGraphValue<TrainingInputRole>[],
  batch: StepBatch,
  params: ReadonlyMap<string, Float32Array>,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const teacherSide = teacherData(batch);
  for (const input of inputs) {
    const shape = input.shape.map((d) => (typeof d === 'number' ? d : batch.size));
    switch (input.role) {
      case 'image':
        feeds[input.name] = new ort.Tensor('float32', batch.images, shape);
        break;
      case 'labels':
        feeds[input.name] = new ort.Tensor('int64', toInt64(batch.labels), shape);
        break;
      case 'gt_locations':
        feeds[input.name] = new ort.Tensor('float32', batch.locations, shape);
        break;
      case 'teacher_scores':
      case 'teacher_locations':
      case 'teacher_features':
      case 'distill_mask':
      case 'distill_box_mask': {
        const data = teacherSide[input.role];
        if (data === undefined) throw new Error(`graphFeeds: the batch has no ${input.role}`);
        feeds[input.name] = new ort.Tensor('float32', data, shape);
        break;
      }
      default: {
        const data = params.get(input.source!);
        if (data === undefined) throw new Error(`graphFeeds: no value for ${input.source}`);
        feeds[input.name] = new ort.Tensor('float32', data, shape);
      }
    }
  }
  return feeds;
}

/** The batch's teacher-side arrays by the graph input role that reads them. */
function teacherData(batch: StepBatch): Record<string, Float32Array | undefined> {
  return {
    teacher_scores: batch.teacherScores,
    teacher_locations: batch.teacherLocations,
    teacher_features: batch.teacherFeatures,
    distill_mask: batch.distillMask,
    distill_box_mask: batch.distillBoxMask,
  };
}

export function outputsOf(results: ort.InferenceSession.OnnxValueMapType): GraphOutputs {
  return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, t.data as Float32Array]));
}

function toInt64(labels: Int32Array): BigInt64Array {
  const out = new BigInt64Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = BigInt(labels[i]);
  return out;
}

function readResult(compiled: CompiledTrainingGraph, outputs: GraphOutputs): StepResult {
  const gradients = new Map<string, Float32Array>();
  const batchStats = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  for (const output of compiled.outputs) {
    if (output.role === 'grad') gradients.set(output.source!, outputs[output.name]);
  }
  for (const bn of compiled.batchNorms) {
    batchStats.set(bn.name, {
      mean: outputs[batchMeanOutput(bn.name)],
      variance: outputs[batchVarianceOutput(bn.name)],
    });
  }
  const distillRegression = outputs[LOSS_DISTILL_REGRESSION_OUTPUT] as Float32Array | undefined;
  const distillClassification = outputs[LOSS_DISTILL_CLASSIFICATION_OUTPUT] as Float32Array | undefined;
  const distillFeatures = outputs[LOSS_DISTILL_FEATURES_OUTPUT] as Float32Array | undefined;
  return {
    regression: outputs[LOSS_REGRESSION_OUTPUT][0],
    classification: outputs[LOSS_CLASSIFICATION_OUTPUT][0],
    ...(distillRegression && distillClassification
      ? {
          distillation: {
            regression: distillRegression[0],
            classification: distillClassification[0],
            ...(distillFeatures ? { features: distillFeatures[0] } : {}),
          },
        }
      : {}),
    gradients,
    batchStats,
  };
}

function countPositives(labels: Int32Array): number {
  let n = 0;
  for (const label of labels) if (label > 0) n++;
  return n;
}

/** Contiguous shards of ⌊N/S⌋ or ⌈N/S⌉ images (fewer shards than S when N < S). Copies: they cross threads. */
export function splitBatch(batch: StepBatch, shards: number): StepBatch[] {
  const count = Math.min(shards, batch.size);
  const parts: StepBatch[] = [];
  let start = 0;
  for (let s = 0; s < count; s++) {
    const size = Math.floor(batch.size / count) + (s < batch.size % count ? 1 : 0);
    const end = start + size;
    const slice = <T extends Float32Array | Int32Array>(data: T): T =>
      data.slice((start * data.length) / batch.size, (end * data.length) / batch.size) as T;
    parts.push({
      size,
      images: slice(batch.images),
      labels: slice(batch.labels),
      locations: slice(batch.locations),
      ...(batch.teacherScores ? { teacherScores: slice(batch.teacherScores) } : {}),
      ...(batch.teacherLocations ? { teacherLocations: slice(batch.teacherLocations) } : {}),
      ...(batch.distillMask ? { distillMask: slice(batch.distillMask) } : {}),
      ...(batch.distillBoxMask ? { distillBoxMask: slice(batch.distillBoxMask) } : {}),
      ...(batch.teacherFeatures ? { teacherFeatures: slice(batch.teacherFeatures) } : {}),
    });
    start = end;
  }
  return parts;
}

/**
 * The batch's result from its shards' (see the module comment): losses and gradients weighted by
 * max(n_i, 1)/max(n, 1); BatchNorm statistics pooled exactly (mean of all values, unbiased variance of all values
 * from the shards' means and unbiased variances).
 * @param shards per shard: images and positive priors
 * @param spatial per BatchNorm module: statistic values per image (H·W)
 */
export function combineShardResults(
  compiled: Pick<CompiledTrainingGraph, 'batchNorms'>,
  results: readonly StepResult[],
  shards: readonly { readonly images: number; readonly positives: number }[],
  spatial: ReadonlyMap<string, number>,
): StepResult {
  if (results.length === 1) return results[0];
  const positives = shards.reduce((sum, s) => sum + s.positives, 0);
  const weights = shards.map((s) => Math.max(s.positives, 1) / Math.max(positives, 1));
  let regression = 0;
  let classification = 0;
  let distillation: { -readonly [K in keyof DistillationTerms]: DistillationTerms[K] } | undefined;
  results.forEach((r, i) => {
    regression += weights[i] * r.regression;
    classification += weights[i] * r.classification;
    if (r.distillation) {
      distillation ??= { regression: 0, classification: 0 };
      distillation.regression += weights[i] * r.distillation.regression;
      distillation.classification += weights[i] * r.distillation.classification;
      if (r.distillation.features !== undefined) {
        distillation.features = (distillation.features ?? 0) + weights[i] * r.distillation.features;
      }
    }
  });
  const gradients = new Map<string, Float32Array>();
  for (const [name, first] of results[0].gradients) {
    const sum = new Float32Array(first.length);
    results.forEach((r, i) => {
      const g = r.gradients.get(name)!;
      const w = weights[i];
      for (let k = 0; k < sum.length; k++) sum[k] += w * g[k];
    });
    gradients.set(name, sum);
  }
  const batchStats = new Map<string, { mean: Float32Array; variance: Float32Array }>();
  for (const bn of compiled.batchNorms) {
    const perImage = spatial.get(bn.name)!;
    const counts = shards.map((s) => s.images * perImage);
    const total = counts.reduce((a, b) => a + b, 0);
    const stats = results.map((r) => r.batchStats.get(bn.name)!);
    const channels = stats[0].mean.length;
    const mean = new Float32Array(channels);
    const variance = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      let m = 0;
      stats.forEach((s, i) => (m += counts[i] * s.mean[c]));
      m /= total;
      let squares = 0; // Σ (x − m)² over every value, from each shard's Σ (x − m_i)² and its offset
      stats.forEach((s, i) => {
        squares += (counts[i] - 1) * s.variance[c] + counts[i] * (s.mean[c] - m) ** 2;
      });
      mean[c] = m;
      variance[c] = squares / Math.max(total - 1, 1);
    }
    batchStats.set(bn.name, { mean, variance });
  }
  return { regression, classification, ...(distillation ? { distillation } : {}), gradients, batchStats };
}

/** `workerData` of a step worker; the marker keeps an accidental import in some other worker inert. */
export interface StepWorkerData {
  readonly kind: 'ultraface-step-worker';
  readonly onnx: Uint8Array;
  readonly inputs: readonly TrainingGraphValue<TrainingInputRole>[];
  readonly threads: number;
}

export interface StepWorkerRequest {
  readonly id: number;
  readonly batch: StepBatch;
  readonly params: Readonly<Record<string, Float32Array>>;
}

export type StepWorkerReply =
  | { readonly ready: true }
  | { readonly id: number; readonly outputs: GraphOutputs }
  | { readonly id: number | null; readonly error: SerializedError };

interface Pending {
  readonly id: number;
  readonly resolve: (outputs: GraphOutputs) => void;
  readonly reject: (error: Error) => void;
}

/** One worker per shard, each running one request at a time. */
class ShardWorkers {
  readonly ready: Promise<void>;
  readonly #workers: Worker[] = [];
  readonly #pending: (Pending | undefined)[] = [];
  #nextId = 0;
  #failure: Error | undefined;
  #terminating = false;

  constructor(count: number, data: StepWorkerData) {
    const started: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const worker = spawnSiblingWorker(import.meta.url, 'step-worker', data);
      worker.unref(); // held open only while it has a request
      this.#workers.push(worker);
      this.#pending.push(undefined);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (reply: StepWorkerReply) => {
            if ('ready' in reply) resolve();
            else if (reply.id === null) reject(deserializeError((reply as { error: SerializedError }).error));
            else this.#settle(i, reply);
          });
          worker.on('error', (error) => {
            const failure = new Error(`Training step worker failed: ${error.message}`, { cause: error });
            reject(failure);
            this.#fail(failure);
          });
          worker.on('exit', (code) => {
            const failure = new Error(`Training step worker exited unexpectedly (code ${code})`);
            if (!this.#terminating) {
              reject(failure);
              this.#fail(failure);
            }
          });
        }),
      );
    }
    this.ready = Promise.all(started).then(() => undefined);
  }

  run(shard: number, request: Omit<StepWorkerRequest, 'id'>): Promise<GraphOutputs> {
    return new Promise((resolve, reject) => {
      if (this.#failure !== undefined) {
        reject(this.#failure);
        return;
      }
      if (this.#pending[shard] !== undefined) throw new Error('ShardWorkers: shard is busy');
      const id = this.#nextId++;
      this.#pending[shard] = { id, resolve, reject };
      const worker = this.#workers[shard];
      worker.ref();
      // Every array of the shard's batch moves to the worker (a StepBatch holds nothing else but its size).
      const transfer = Object.values(request.batch)
        .filter((value): value is Float32Array | Int32Array => ArrayBuffer.isView(value))
        .map((array) => array.buffer);
      worker.postMessage({ id, ...request } satisfies StepWorkerRequest, transfer as ArrayBuffer[]);
    });
  }

  async terminate(): Promise<void> {
    this.#terminating = true;
    const closed = new UltrafaceError('E_DISPOSED', 'The training step runner was released');
    this.#failure ??= closed;
    this.#pending.forEach((p, i) => {
      p?.reject(closed);
      this.#pending[i] = undefined;
    });
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #settle(shard: number, reply: Exclude<StepWorkerReply, { ready: true }>): void {
    const pending = this.#pending[shard];
    if (pending?.id !== reply.id) return; // a reply after terminate()
    this.#pending[shard] = undefined;
    this.#workers[shard].unref();
    if ('error' in reply) pending.reject(deserializeError(reply.error));
    else pending.resolve(reply.outputs);
  }

  #fail(error: Error): void {
    if (this.#terminating) return;
    this.#failure ??= error;
    this.#pending.forEach((p, i) => {
      p?.reject(error);
      this.#pending[i] = undefined;
      this.#workers[i].unref();
    });
  }
}
