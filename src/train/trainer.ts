import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { UltrafaceError } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import { INPUT_SIZES, type InputSizeName, type NetVersion } from '../core/presets.js';
import { generatePriors } from '../core/priors.js';
import { createRandom } from '../core/random.js';
import type { AugmentOptionsInput } from '../data/augment/index.js';
import { createBatchSource, type BatchPosition, type BatchSource } from '../data/batches.js';
import type { TrainingSample } from '../data/training-set.js';
import type { ModelGraph, ParamGroup, ParamSpec } from '../model/graph.js';
import { readWeightsFile } from '../model/import/weights-file.js';
import { createModel } from '../model/model.js';
import { buildNetwork } from '../model/network.js';
import { exportOnnx } from '../model/onnx/writer.js';
import { isUnderPrefix, type WeightTensor, type Weights } from '../model/weights.js';
import { resolveWeightsSource } from '../runtime/node/bundled-models.js';
import { writeFileAtomic } from '../runtime/node/files.js';
import { createSession } from '../runtime/node/session.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  compileTrainingGraph,
  LOSS_CLASSIFICATION_OUTPUT,
  LOSS_REGRESSION_OUTPUT,
  type CompiledTrainingGraph,
} from './compile.js';
import { initialWeights } from './init.js';
import type { DistillationWeights } from './loss.js';
import { createSgdState, isTrained, sgdStep, updateRunningStats, type SgdState } from './optimizer.js';
import { learningRate, validateSchedule, type ScheduleOptions } from './schedule.js';
import {
  createStepRunner,
  type DistillationTerms,
  graphFeeds,
  type StepBatch,
  type StepResult,
  type StepRunner,
} from './step-runner.js';
import { ignoreSmallBackground, smallPriorCount } from './small-background.js';
import {
  closeImages,
  createTeacher,
  distillationMask,
  ignoreTeacherFaces,
  imagesFromDatasets,
  priorsUpTo,
} from './teacher.js';

/** Everything that defines a run; stored in checkpoints so a resumed run continues the same run. */
export interface TrainConfig {
  readonly net: NetVersion;
  readonly inputSize: InputSizeName;
  readonly epochs: number;
  /** Images per step. Default 24 (upstream). */
  readonly batchSize: number;
  readonly schedule: ScheduleOptions;
  /** SGD (upstream: 0.9 and 5e-4). */
  readonly momentum: number;
  readonly weightDecay: number;
  /** LR multiplier per parameter group; 0 freezes the group. */
  readonly groupScale: Partial<Record<ParamGroup, number>>;
  /**
   * State-dict name prefixes of the only layers trained (`--train-only`, e.g. `base_net.7`,
   * `classification_headers.0`): every other parameter keeps its weights and every other BatchNorm its running
   * statistics (its forward pass still normalizes with the batch's). Absent: every layer trains.
   */
  readonly trainOnly?: readonly string[];
  readonly augment: AugmentOptionsInput;
  /**
   * Prior matching: a prior whose best IoU with a face reaches this is a positive (SPEC §5.3; each face's best prior
   * is one whatever its IoU). Absent: upstream's 0.35. Validation losses match the same way.
   */
  readonly matchThreshold?: number;
  /**
   * Datasets (`TrainingSample.dataset`, counted from 0) whose first-level background priors (10–24 px) are ignored,
   * never mined as negatives (small-background.ts). Absent: none. Validation losses are the plain ones.
   */
  readonly ignoreSmallBackground?: readonly number[];
  readonly seed: number;
  /** Validation (loss, and the `evaluate` hook) every this many epochs, and after the last. */
  readonly validateEvery: number;
  /** Save `last.ckpt` every this many steps as well as after every epoch. */
  readonly checkpointEvery: number;
  /** Distillation from a teacher model (issue #15); absent: none. */
  readonly distillation?: DistillationConfig;
}

export interface DistillationConfig {
  /** The teacher's weights file (`.pth`, `.onnx`, a checkpoint's export), read again on resume. */
  readonly teacher: string;
  /** Loss weights of the KL and the box term (loss.ts `emitDistillationLoss`). */
  readonly weights: DistillationWeights;
  /**
   * Background priors the teacher scores at least this face probability are ignored by the ground-truth loss
   * (never mined as negatives). 1 switches it off.
   */
  readonly ignoreThreshold: number;
  /**
   * Also leave to the annotation every prior that overlaps an annotated face at this IoU or more (teacher.ts
   * `distillationMask`); undefined: only the annotation's positives.
   */
  readonly annotatedIou?: number;
  /**
   * The box term also at the annotation's positive priors (the class term never there): the student places the
   * faces the annotation names where the teacher places them, as well as its own (`--distill-positive-boxes`).
   * Not with `annotatedIou`. Absent: false.
   */
  readonly positiveBoxes?: boolean;
  /**
   * The box term only at priors at most this wide, in pixels of the network input (`--distill-box-max-prior`;
   * e.g. 24: the first level's 10, 16 and 24 px): small faces take the teacher's placement, larger ones keep the
   * annotation's box style. Absent: at every prior.
   */
  readonly boxMaxPrior?: number;
  /**
   * The box term only at priors the teacher scores at least this face probability (`--distill-box-min-face`), not
   * at every background prior at a small weight. Absent: everywhere.
   */
  readonly boxMinFace?: number;
  /**
   * The box term only on the samples of these datasets (`TrainingSample.dataset`, counted from 0; among those
   * `datasets` teaches), the class term and the ignore on all of those (`--distill-box-datasets`): the teacher
   * places faces in one dataset's style, and another's annotators box theirs otherwise. Absent: as `datasets`.
   */
  readonly boxDatasets?: readonly number[];
  /**
   * What the teacher reads: the batch as the student reads it ('augmented'), or the same crops without the
   * photometric distortion ('undistorted'; augment/index.ts): a teacher scores faces lower under some distortions
   * (upstream's RFB-320 on imgs/25.jpg with red and blue swapped finds 92 of its 134 faces), and those lower
   * scores would become the student's targets and leave faces open to hard-negative mining. Absent: 'augmented'.
   */
  readonly input?: 'augmented' | 'undistorted';
  /**
   * Distil only on the samples of these datasets (`TrainingSample.dataset`, counted from 0); on the others the
   * teacher neither teaches nor ignores. Absent: on every sample.
   */
  readonly datasets?: readonly number[];
}

export interface TrainOptions {
  readonly config: TrainConfig;
  readonly samples: readonly TrainingSample[];
  readonly validationSamples?: readonly TrainingSample[];
  /** Run folder: `last.ckpt`, `best.ckpt`, `history.json`, `model.onnx`. */
  readonly outDir: string;
  /**
   * Also keep the weights of every validated epoch as `epoch-<n>.ckpt` (n counted from 1), for `export`, `average`
   * and `--init`: a late epoch at a lower rate can score worse than an earlier one, and only these let it be
   * picked afterwards. Off by default (about 2 MiB a file for RFB).
   */
  readonly keepValidated?: boolean;
  /**
   * Continue from `<outDir>/last.ckpt` (its config wins over `config`); E_CHECKPOINT when there is none. Without
   * it, a run folder that already holds a run's files is refused (E_INVALID_OPTION) unless `overwrite`.
   */
  readonly resume?: boolean;
  /** Start afresh in a run folder that holds another run: its run files are deleted first. */
  readonly overwrite?: boolean;
  /** Start from these weights instead of a fresh initialisation (fine-tuning). */
  readonly initialWeights?: Weights;
  /** Batch-building worker threads (default 1) and onnxruntime threads in all (default: one per core). */
  readonly workers?: number;
  readonly threads?: number;
  /**
   * Data parallel: each batch is split over this many onnxruntime sessions in worker threads, each with
   * threads/shards threads. Default: one shard per thread (faster on small CPUs); 1 runs one session with all
   * threads. BatchNorm then normalizes each shard with its own statistics (as PyTorch's DataParallel); the loss,
   * gradients and running statistics are those of the whole batch. A run resumes exactly with the same shards.
   */
  readonly shards?: number;
  /** Stop once the run has taken this many steps in all (tests, benchmarks); it can be resumed later. */
  readonly maxSteps?: number;
  /** Aborting finishes the current step, saves `last.ckpt` and returns (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly hooks?: TrainHooks;
}

export interface StepRecord {
  readonly epoch: number;
  /** Batch within the epoch, and steps since the run began. */
  readonly batch: number;
  readonly step: number;
  readonly batchesPerEpoch: number;
  readonly lossRegression: number;
  readonly lossClassification: number;
  readonly lr: number;
  /** Over the last step, data loading included. */
  readonly imagesPerSecond: number;
  /** With distillation: its terms (features: with `--distill-features`), and the teacher's forward pass time. */
  readonly distillation?: DistillationTerms;
  readonly teacherMs?: number;
}

export interface EpochRecord {
  readonly epoch: number;
  /** Mean training losses over the epoch's steps. */
  readonly lossRegression: number;
  readonly lossClassification: number;
  /** Mean distillation terms over the epoch's steps (already part of the gradient, not of the losses above). */
  readonly distillation?: DistillationTerms;
  readonly validationLoss?: { readonly regression: number; readonly classification: number };
  /** From the `evaluate` hook, e.g. `{ AP50: 0.85 }`. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly lr: number;
  /** Wall time of the epoch's steps (batch loading included, validation not), summed over resumed parts. */
  readonly seconds: number;
}

export interface TrainHooks {
  onStep?(record: StepRecord): void;
  onEpoch?(record: EpochRecord, history: readonly EpochRecord[]): void | Promise<void>;
  /** Scores an fp32 export of the current weights (e.g. VOC AP on the validation split). */
  evaluate?(model: Uint8Array, epoch: number): Promise<Readonly<Record<string, number>>>;
}

export interface TrainResult {
  /** True when the run reached its last epoch (false: stopped by `maxSteps` or the signal; resumable). */
  readonly finished: boolean;
  readonly history: readonly EpochRecord[];
  readonly steps: number;
  /** The exported fp32 model of the final weights, when finished. */
  readonly modelPath?: string;
}

/** The JSON half of a checkpoint. */
interface TrainState {
  readonly config: TrainConfig;
  /** The next batch to train on. */
  readonly position: BatchPosition;
  readonly step: number;
  readonly history: readonly EpochRecord[];
  /** Running sums over the current epoch's steps so far (so a mid-epoch resume reports the same mean). */
  readonly epochSums: {
    readonly regression: number;
    readonly classification: number;
    readonly steps: number;
    /** Wall time of those steps, batch waits included (absent in checkpoints of earlier versions). */
    readonly seconds?: number;
    readonly distillRegression?: number;
    readonly distillFeatures?: number;
    readonly distillClassification?: number;
  };
  readonly bestValidationLoss: number | null;
}

const VELOCITY_PREFIX = 'momentum:';

function floatTensor(weights: Weights, name: string): Float32Array {
  const data = weights.get(name)?.data;
  if (!(data instanceof Float32Array)) throw new Error(`trainer: missing float tensor ${name}`);
  return data;
}

/**
 * Trains the detector with the compiled ONNX training graph on onnxruntime-node (DESIGN.md "Training engine"):
 * batches come from worker threads while the previous step runs; SGD, BN running statistics and the schedule
 * run here. Checkpoints are atomic; a resumed run continues with the same batches and the same next loss.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  if (options.shards !== undefined) integerInRange('shards', options.shards, 1, 64);
  const lastPath = join(options.outDir, 'last.ckpt');
  const resumed = options.resume ? await loadCheckpoint<TrainState>(lastPath).catch(noCheckpoint) : undefined;
  if (!options.resume) await claimRunFolder(options.outDir, options.overwrite ?? false);
  const config = resumed?.state.config ?? options.config;
  validateSchedule(config.schedule);
  const size = INPUT_SIZES[config.inputSize];
  const graph = buildNetwork(config.net);
  validateTrainOnly(config.trainOnly, graph, config.net);

  // Weights (state dict) and momentum buffers, mutated in place step by step.
  let weights: Map<string, WeightTensor>;
  const sgd: SgdState = createSgdState();
  if (resumed) {
    weights = new Map([...resumed.tensors].filter(([name]) => !name.startsWith(VELOCITY_PREFIX)));
    for (const [name, tensor] of resumed.tensors) {
      if (name.startsWith(VELOCITY_PREFIX))
        sgd.velocity.set(name.slice(VELOCITY_PREFIX.length), tensor.data as Float32Array);
    }
  } else if (options.initialWeights) {
    weights = new Map(
      [...createModel(options.initialWeights, config.net).weights].map(([k, t]) => [k, copyTensor(t)]),
    );
  } else {
    weights = initialWeights(graph, createRandom(config.seed, 0x1417));
  }
  createModel(weights, config.net); // checks names and shapes
  const params = new Map(
    graph.params.filter((p) => p.learnable).map((p) => [p.name, floatTensor(weights, p.name)]),
  );

  let state: TrainState = resumed?.state ?? {
    config,
    position: { epoch: 0, batch: 0 },
    step: 0,
    history: [],
    epochSums: { regression: 0, classification: 0, steps: 0, seconds: 0 },
    bestValidationLoss: null,
  };
  if (state.position.epoch >= config.epochs)
    return { finished: true, history: state.history, steps: state.step };

  const priors = generatePriors(size); // [P, 4] for the distillation masks
  const trainGraph = compileTrainingGraph(graph, {
    width: size.width,
    height: size.height,
    batchSize: 'dynamic',
    ...(config.distillation ? { distillation: config.distillation.weights } : {}),
    ...(config.distillation?.boxMaxPrior === undefined
      ? {}
      : { distillationBoxPriors: priorsUpTo(priors, size.width, config.distillation.boxMaxPrior) }),
    ...(config.distillation?.boxMinFace === undefined
      ? {}
      : { distillationBoxMinFace: config.distillation.boxMinFace }),
    ...(config.distillation?.boxDatasets === undefined ? {} : { distillationBoxMask: true }),
  });
  const teacher = config.distillation
    ? await createTeacher(
        await readTeacherWeights(config.distillation.teacher),
        size,
        options.threads,
        (config.distillation.weights.features ?? 0) > 0,
      )
    : undefined;
  const smallPriors = smallPriorCount(size);
  const featureValues = teacherFeatureValues(trainGraph); // per image, when the graph has the feature term
  const runner = await createStepRunner(graph, trainGraph, {
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    shards: options.shards ?? defaultShards(options.threads),
  });
  const batches = createBatchSource({
    samples: options.samples,
    inputSize: config.inputSize,
    batchSize: config.batchSize,
    seed: config.seed,
    augment: config.augment,
    ...(config.matchThreshold === undefined ? {} : { matchThreshold: config.matchThreshold }),
    workers: options.workers ?? 1,
    start: state.position,
    undistortedImages: config.distillation?.input === 'undistorted',
  });

  const save = async (path: string): Promise<void> => {
    const tensors = new Map<string, WeightTensor>(weights);
    for (const [name, v] of sgd.velocity)
      tensors.set(`${VELOCITY_PREFIX}${name}`, { shape: [v.length], data: v });
    await saveCheckpoint(path, { state, tensors });
  };

  try {
    while (state.position.epoch < config.epochs) {
      if (options.signal?.aborted || (options.maxSteps !== undefined && state.step >= options.maxSteps)) {
        await save(lastPath);
        return { finished: false, history: state.history, steps: state.step };
      }
      const started = performance.now();
      const batch = await batches.next();
      const lr = learningRate(config.schedule, batch.epoch, state.step);
      // Both switches below relabel priors as ignored: on one copy, the batch's own labels stay as matched.
      const relabels = config.ignoreSmallBackground !== undefined || teacher !== undefined;
      const labels = relabels ? batch.labels.slice() : batch.labels;
      let stepBatch: StepBatch = { ...batch, labels };
      if (config.ignoreSmallBackground) {
        const marked = imagesFromDatasets(batch.sampleIndices, options.samples, config.ignoreSmallBackground);
        ignoreSmallBackground(labels, marked, smallPriors);
      }
      let teacherMs: number | undefined;
      if (teacher && config.distillation) {
        const teacherStarted = performance.now();
        // The source builds undistorted copies exactly when the teacher is to read them (`input: 'undistorted'`).
        const t = await teacher.run(batch.undistortedImages ?? batch.images, batch.size);
        teacherMs = performance.now() - teacherStarted;
        const taught = imagesFromDatasets(batch.sampleIndices, options.samples, config.distillation.datasets);
        if (config.distillation.ignoreThreshold < 1) {
          ignoreTeacherFaces(
            labels,
            t.scores,
            teacher.numClasses,
            config.distillation.ignoreThreshold,
            taught,
          );
        }
        const distillMask = distillationMask(batch.labels, batch.boxes, batch.boxLabels, priors, {
          annotatedIou: config.distillation.annotatedIou,
          taught,
          positives: config.distillation.positiveBoxes ?? false,
        });
        const boxDatasets = config.distillation.boxDatasets;
        stepBatch = {
          ...stepBatch,
          teacherScores: t.scores,
          teacherLocations: t.locations,
          distillMask,
          ...(boxDatasets === undefined
            ? {}
            : {
                distillBoxMask: closeImages(
                  distillMask,
                  imagesFromDatasets(batch.sampleIndices, options.samples, boxDatasets),
                ),
              }),
          ...(t.features ? { teacherFeatures: checkedFeatures(t.features, batch.size, featureValues) } : {}),
        };
      }
      const losses = await trainStep(
        runner,
        trainGraph,
        graph.params,
        stepBatch,
        weights,
        params,
        sgd,
        lr,
        config,
      );
      const sums = {
        regression: state.epochSums.regression + losses.regression,
        classification: state.epochSums.classification + losses.classification,
        steps: state.epochSums.steps + 1,
        seconds: (state.epochSums.seconds ?? 0) + (performance.now() - started) / 1000,
        ...(losses.distillation
          ? {
              distillRegression: (state.epochSums.distillRegression ?? 0) + losses.distillation.regression,
              distillClassification:
                (state.epochSums.distillClassification ?? 0) + losses.distillation.classification,
              ...(losses.distillation.features === undefined
                ? {}
                : { distillFeatures: (state.epochSums.distillFeatures ?? 0) + losses.distillation.features }),
            }
          : {}),
      };
      state = { ...state, position: batches.position, step: state.step + 1, epochSums: sums };
      options.hooks?.onStep?.({
        epoch: batch.epoch,
        batch: batch.index,
        step: state.step,
        batchesPerEpoch: batches.batchesPerEpoch,
        lossRegression: losses.regression,
        lossClassification: losses.classification,
        lr,
        imagesPerSecond: batch.size / ((performance.now() - started) / 1000),
        ...(losses.distillation ? { distillation: losses.distillation } : {}),
        ...(teacherMs === undefined ? {} : { teacherMs }),
      });
      if (!Number.isFinite(losses.regression + losses.classification)) {
        throw new UltrafaceError(
          'E_INVALID_OPTION',
          `The loss diverged at step ${state.step} (lr ${lr}); try a lower --lr or a warm-up`,
        );
      }

      const epochDone = batches.position.epoch !== batch.epoch;
      if (epochDone) {
        const record = await finishEpoch(batch.epoch, lr);
        state = {
          ...state,
          history: [...state.history, record],
          epochSums: { regression: 0, classification: 0, steps: 0, seconds: 0 },
        };
        await save(lastPath);
        await writeFileAtomic(
          join(options.outDir, 'history.json'),
          `${JSON.stringify(state.history, null, 1)}\n`,
        );
        await options.hooks?.onEpoch?.(record, state.history);
      } else if (state.step % config.checkpointEvery === 0) {
        await save(lastPath);
      }
    }
  } finally {
    await batches.close();
    await runner.release();
    await teacher?.release();
  }

  const modelPath = join(options.outDir, 'model.onnx');
  await writeFileAtomic(modelPath, exportModel());
  return { finished: true, history: state.history, steps: state.step, modelPath };

  function exportModel(): Uint8Array {
    return exportOnnx(createModel(weights, config.net), {
      inputSize: size,
      source: `ultraface train (${config.net}-${config.inputSize})`,
    });
  }

  async function finishEpoch(epoch: number, lr: number): Promise<EpochRecord> {
    const sums = state.epochSums;
    const last = epoch === config.epochs - 1;
    const validate = last || epoch % config.validateEvery === 0;
    let validationLoss: EpochRecord['validationLoss'];
    let metrics: EpochRecord['metrics'];
    if (validate && options.validationSamples?.length) {
      validationLoss = await validationLosses(
        graph,
        weights,
        options.validationSamples,
        config,
        options.workers,
        options.threads,
      );
      const total = validationLoss.regression + validationLoss.classification;
      if (state.bestValidationLoss === null || total < state.bestValidationLoss) {
        state = { ...state, bestValidationLoss: total };
        await save(join(options.outDir, 'best.ckpt'));
        await writeFileAtomic(join(options.outDir, 'best.onnx'), exportModel());
      }
    }
    if (validate && options.keepValidated) await save(join(options.outDir, validatedCheckpointName(epoch)));
    if (validate && options.hooks?.evaluate) metrics = await options.hooks.evaluate(exportModel(), epoch);
    const steps = Math.max(sums.steps, 1);
    return {
      epoch,
      lossRegression: sums.regression / steps,
      lossClassification: sums.classification / steps,
      ...(sums.distillRegression === undefined
        ? {}
        : {
            distillation: {
              regression: sums.distillRegression / steps,
              classification: (sums.distillClassification ?? 0) / steps,
              ...(sums.distillFeatures === undefined ? {} : { features: sums.distillFeatures / steps }),
            },
          }),
      ...(validationLoss ? { validationLoss } : {}),
      ...(metrics ? { metrics } : {}),
      lr,
      seconds: sums.seconds ?? 0,
    };
  }
}

function defaultShards(threads: number | undefined): number {
  return Math.max(1, threads ?? availableParallelism());
}

function noCheckpoint(error: unknown): never {
  if (error instanceof UltrafaceError && error.code === 'E_FILE_NOT_FOUND') {
    throw new UltrafaceError(
      'E_CHECKPOINT',
      `Cannot resume: ${error.message.replace(/^Cannot read /, '')} does not exist; start the run without --resume`,
      { cause: error },
    );
  }
  throw error;
}

/** The files a run writes into its folder. */
const RUN_FILES = [
  'last.ckpt',
  'best.ckpt',
  'best.onnx',
  'model.onnx',
  'history.json',
  'loss-curve.svg',
  'metrics-curve.svg',
];

/** `epoch-<n>.ckpt`, n counted from 1 as in the progress output (`keepValidated`). */
function validatedCheckpointName(epoch: number): string {
  return `epoch-${epoch + 1}.ckpt`;
}

const VALIDATED_CHECKPOINT = /^epoch-\d+\.ckpt$/;

function isRunFile(file: string): boolean {
  return RUN_FILES.includes(file) || VALIDATED_CHECKPOINT.test(file);
}

/** A fresh run refuses a folder holding another run's files (one folder, one run), or clears them. */
async function claimRunFolder(outDir: string, overwrite: boolean): Promise<void> {
  const present = existsSync(outDir) ? (await readdir(outDir)).filter(isRunFile).sort() : [];
  if (present.length === 0) return;
  if (!overwrite) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `${outDir} holds another training run (${present.join(', ')}); pass --resume to continue it, ` +
        `--overwrite to replace it, or choose another folder`,
    );
  }
  await Promise.all(present.map((file) => rm(join(outDir, file), { force: true })));
}

/** Each `trainOnly` prefix must name learnable parameters of the network: a typo would train nothing. */
function validateTrainOnly(
  trainOnly: readonly string[] | undefined,
  graph: ModelGraph,
  net: NetVersion,
): void {
  if (trainOnly === undefined) return;
  const learnable = graph.params.filter((p) => p.learnable).map((p) => p.name);
  const unknown = trainOnly.filter((prefix) => !learnable.some((name) => isUnderPrefix(name, prefix)));
  if (trainOnly.length === 0 || unknown.length > 0) {
    const why = trainOnly.length === 0 ? 'it is empty' : `no parameter is under ${unknown.join(', ')}`;
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected trainOnly (--train-only) to name layers of the ${net} network (state-dict prefixes such as ` +
        `base_net.7 or classification_headers.0) but ${why}`,
    );
  }
}

function copyTensor(tensor: WeightTensor): WeightTensor {
  return { shape: tensor.shape, data: tensor.data.slice() };
}

/** Forward, loss and backward of one batch, then SGD and the BN running statistics (SPEC §7.2, §2.1). */
async function trainStep(
  runner: StepRunner,
  compiled: CompiledTrainingGraph,
  specs: readonly ParamSpec[],
  batch: StepBatch,
  weights: Map<string, WeightTensor>,
  params: ReadonlyMap<string, Float32Array>,
  sgd: SgdState,
  lr: number,
  config: TrainConfig,
): Promise<Pick<StepResult, 'regression' | 'classification' | 'distillation'>> {
  const result = await runner.run(batch, params);
  sgdStep(specs, params, result.gradients, sgd, lr, config);
  for (const bn of compiled.batchNorms) {
    if (!isTrained(bn.name, config.trainOnly)) continue;
    updateRunningStats(
      {
        mean: floatTensor(weights, `${bn.name}.running_mean`),
        variance: floatTensor(weights, `${bn.name}.running_var`),
      },
      result.batchStats.get(bn.name)!,
      bn.momentum,
    );
    const counter = weights.get(`${bn.name}.num_batches_tracked`)!.data as BigInt64Array;
    counter[0] += 1n;
  }
  return {
    regression: result.regression,
    classification: result.classification,
    ...(result.distillation ? { distillation: result.distillation } : {}),
  };
}

/** @param source a weights file, a bundled model's name or `upstream:NAME` (downloaded once into the cache) */
async function readTeacherWeights(source: string): Promise<Weights> {
  const path = await resolveWeightsSource(source);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new UltrafaceError('E_FILE_NOT_FOUND', `Cannot read the distillation teacher ${path}`, { cause });
  }
  return readWeightsFile(bytes, path).weights;
}

/**
 * Mean validation losses over the validation set, BN in eval mode (upstream's validation, SPEC §7.3):
 * no augmentation beyond the resize, list order, averaged over batches.
 */
async function validationLosses(
  graph: ModelGraph,
  weights: Weights,
  samples: readonly TrainingSample[],
  config: TrainConfig,
  workers: number | undefined,
  threads: number | undefined,
): Promise<{ regression: number; classification: number }> {
  const size = INPUT_SIZES[config.inputSize];
  const compiled = compileTrainingGraph(graph, {
    width: size.width,
    height: size.height,
    batchSize: 'dynamic',
    mode: 'eval',
  });
  const session = await createSession(compiled.onnx, 'the validation graph', threads);
  const values = new Map(
    compiled.inputs
      .filter((v) => v.source !== undefined)
      .map((v) => [v.source!, floatTensor(weights, v.source!)]),
  );
  const source: BatchSource = createBatchSource({
    samples,
    inputSize: config.inputSize,
    batchSize: config.batchSize,
    augment: 'none',
    ...(config.matchThreshold === undefined ? {} : { matchThreshold: config.matchThreshold }),
    shuffle: false,
    workers: workers ?? 1,
  });
  try {
    let regression = 0;
    let classification = 0;
    for (let i = 0; i < source.batchesPerEpoch; i++) {
      const outputs = await session.run(graphFeeds(compiled.inputs, await source.next(), values));
      regression += (outputs[LOSS_REGRESSION_OUTPUT].data as Float32Array)[0];
      classification += (outputs[LOSS_CLASSIFICATION_OUTPUT].data as Float32Array)[0];
    }
    return {
      regression: regression / source.batchesPerEpoch,
      classification: classification / source.batchesPerEpoch,
    };
  } finally {
    await source.close();
    await session.release();
  }
}

/** Values per image of the graph's `teacher_features` input; undefined without the feature term. */
function teacherFeatureValues(graph: CompiledTrainingGraph): number | undefined {
  const input = graph.inputs.find((v) => v.role === 'teacher_features');
  return (input?.shape.slice(1) as number[] | undefined)?.reduce((a, b) => a * b, 1);
}

/** The teacher's feature map must match the student's at the tensor the feature term reads. */
function checkedFeatures(features: Float32Array, n: number, perImage: number | undefined): Float32Array {
  if (perImage === undefined || features.length !== n * perImage) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `The distillation teacher's first-level feature map has ${features.length / n} values per image; the ` +
        `student's has ${perImage ?? 'none'}: feature distillation needs the same layout`,
    );
  }
  return features;
}
