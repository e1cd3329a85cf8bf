import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import cliProgress from 'cli-progress';

import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName, NetVersion } from '../../core/presets.js';
import {
  AUGMENT_PRESETS,
  resolveAugmentOptions,
  type AugmentOptionsInput,
  type AugmentPresetName,
} from '../../data/augment/index.js';
import { loadTrainingDatasets, parseDatasetSpec, withWiderMinFace } from '../../data/training-datasets.js';
import { trainingSamplesFromVoc } from '../../data/training-set.js';
import { readVocDataset } from '../../data/voc.js';
import { renderLineChartSvg } from '../../eval/chart.js';
import { runVocEvaluation, runWiderEvaluation } from '../../eval/run.js';
import { readWeightsFile } from '../../model/import/weights-file.js';
import { resolveWeightsSource } from '../../runtime/node/bundled-models.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import type { ScheduleKind } from '../../train/schedule.js';
import { train, type DistillationConfig, type EpochRecord, type StepRecord } from '../../train/trainer.js';
import type { CliIo } from '../io.js';

export interface TrainCommandOptions {
  readonly net: NetVersion;
  readonly inputSize: InputSizeName;
  /** `[voc:|wider:]PATH[:WEIGHT]`, one or more (data/training-datasets.ts). */
  readonly dataset: string[];
  readonly split: string;
  /** WIDER datasets' minimum face side, image pixels (DatasetSpec.minFaceSize). */
  readonly widerMinFace?: number;
  readonly valDataset?: string;
  readonly valSplit: string;
  /** A WIDER val root: easy/medium/hard AP (ulfd protocol) at each validation. */
  readonly valWider?: string;
  /** Distillation teacher weights, its loss weights `cls,reg`, and the teacher-face ignore threshold. */
  readonly teacher?: string;
  readonly distill: number[];
  readonly teacherIgnore: number;
  /** What the teacher reads (DistillationConfig.input; commander checks the choice); absent: 'augmented'. */
  readonly teacherInput?: 'augmented' | 'undistorted';
  readonly distillAnnotated?: number;
  /** The `--dataset` entries (counted from 1) the teacher teaches on; absent: all. */
  readonly distillDatasets?: number[];
  /** The `--dataset` entries (counted from 1) whose first-level background is never mined; absent: none. */
  readonly ignoreSmallBackground?: number[];
  readonly distillPositiveBoxes?: boolean;
  /** `--distill-box-max-prior`: the widest prior (px at the input) the teacher's box term reaches. */
  readonly distillBoxMaxPrior?: number;
  /** `--distill-box-min-face`: the teacher face probability from which its box term counts. */
  readonly distillBoxMinFace?: number;
  /** `--distill-box-datasets`: the --dataset entries (counted from 1) whose images get the box term. */
  readonly distillBoxDatasets?: number[];
  /** Weight of the attention-transfer term (`--distill-features`); absent: none. */
  readonly distillFeatures?: number;
  readonly matchIou?: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly schedule: ScheduleKind;
  readonly milestones: number[];
  readonly tMax: number;
  readonly warmup: number;
  /** A preset name, or the path of a JSON file with AugmentOptionsInput. */
  readonly augment: string;
  readonly freeze?: 'base_net' | 'base_net+extras';
  /** State-dict name prefixes of the only layers to train, e.g. ['base_net.7', 'classification_headers.0']. */
  readonly trainOnly?: string[];
  readonly init?: string;
  readonly seed: number;
  readonly validateEvery: number;
  readonly checkpointEvery: number;
  readonly keepValidated?: boolean;
  readonly workers: number;
  readonly threads?: number;
  readonly shards?: number;
  readonly out: string;
  readonly resume?: boolean;
  readonly overwrite?: boolean;
  readonly maxSteps?: number;
}

/** The loss-curve plot: training losses per epoch and, where measured, the validation loss. */
export function lossCurveSvg(history: readonly EpochRecord[], title: string): string {
  const epochs = history.map((h) => h.epoch + 1);
  const validated = history.filter((h) => h.validationLoss);
  return renderLineChartSvg(
    [
      { label: 'train: total', x: epochs, y: history.map((h) => h.lossRegression + h.lossClassification) },
      { label: 'train: regression', x: epochs, y: history.map((h) => h.lossRegression) },
      { label: 'train: classification', x: epochs, y: history.map((h) => h.lossClassification) },
      {
        label: 'validation: total',
        x: validated.map((h) => h.epoch + 1),
        y: validated.map((h) => h.validationLoss!.regression + h.validationLoss!.classification),
      },
    ],
    { title, xLabel: 'epoch', yLabel: 'loss', xMax: 'auto', yMax: 'auto', legend: 'top-right' },
  );
}

/** Validation metrics (AP50, WIDER easy/medium/hard) per validated epoch; undefined before the first. */
export function metricsCurveSvg(history: readonly EpochRecord[], title: string): string | undefined {
  const validated = history.filter((h) => h.metrics && Object.keys(h.metrics).length > 0);
  if (validated.length === 0) return undefined;
  const names = [...new Set(validated.flatMap((h) => Object.keys(h.metrics!)))];
  return renderLineChartSvg(
    names.map((name) => {
      const points = validated.filter((h) => Object.hasOwn(h.metrics!, name));
      return { label: name, x: points.map((h) => h.epoch + 1), y: points.map((h) => h.metrics![name]) };
    }),
    { title, xLabel: 'epoch', yLabel: 'AP', xMax: 'auto', yMax: 1, legend: 'bottom-left' },
  );
}

function describeEpoch(record: EpochRecord): string {
  const parts = [
    `epoch ${record.epoch + 1}`,
    `loss ${(record.lossRegression + record.lossClassification).toFixed(4)} (reg ${record.lossRegression.toFixed(4)}, cls ${record.lossClassification.toFixed(4)})`,
  ];
  if (record.distillation) {
    const d = record.distillation;
    const features = d.features === undefined ? '' : `, features ${d.features.toFixed(4)}`;
    parts.push(`distill reg ${d.regression.toFixed(4)}, cls ${d.classification.toFixed(4)}${features}`);
  }
  if (record.validationLoss) {
    const v = record.validationLoss;
    parts.push(`val ${(v.regression + v.classification).toFixed(4)}`);
  }
  for (const [name, value] of Object.entries(record.metrics ?? {})) parts.push(`${name} ${value.toFixed(4)}`);
  parts.push(`lr ${record.lr.toPrecision(3)}`, `${record.seconds.toFixed(0)} s`);
  return parts.join(' | ');
}

/** AP50 on the VOC validation split and/or WIDER easy/medium/hard AP (ulfd protocol). */
async function validationMetrics(
  model: Uint8Array,
  options: TrainCommandOptions,
): Promise<Record<string, number>> {
  const threads = options.threads === undefined ? {} : { threads: options.threads };
  const metrics: Record<string, number> = {};
  if (options.valDataset) {
    const { result } = await runVocEvaluation({
      model,
      root: options.valDataset,
      split: options.valSplit,
      ...threads,
    });
    metrics.AP50 = result.ap;
  }
  if (options.valWider) {
    const { evaluation } = await runWiderEvaluation({ model, root: options.valWider, ...threads });
    metrics.easy = evaluation.easy.ap;
    metrics.medium = evaluation.medium.ap;
    metrics.hard = evaluation.hard.ap;
  }
  return metrics;
}

/**
 * `--teacher`, `--distill cls,reg`, `--teacher-ignore p`, `--teacher-input`, `--distill-annotated iou`,
 * `--distill-positive-boxes`, `--distill-box-max-prior px`, `--distill-box-min-face p`,
 * `--distill-datasets list`, `--distill-box-datasets list` → the run's distillation settings.
 */
function readDistillationOptions(options: TrainCommandOptions): DistillationConfig | undefined {
  const datasets = options.distillDatasets;
  if (options.teacher === undefined) {
    const teacherOnly: [string, unknown][] = [
      ['--distill-datasets', datasets],
      ['--distill-positive-boxes', options.distillPositiveBoxes || undefined],
      ['--distill-features', options.distillFeatures],
      ['--teacher-input', options.teacherInput],
      ['--distill-box-max-prior', options.distillBoxMaxPrior],
      ['--distill-box-min-face', options.distillBoxMinFace],
      ['--distill-box-datasets', options.distillBoxDatasets],
    ];
    const given = teacherOnly.find(([, value]) => value !== undefined);
    if (given) throw new UltrafaceError('E_INVALID_OPTION', `${given[0]}: needs a --teacher to distil from`);
    return undefined;
  }
  if (datasets !== undefined) checkDatasetNumbers('--distill-datasets', datasets, options.dataset.length);
  const boxDatasets = options.distillBoxDatasets;
  if (boxDatasets !== undefined) {
    checkDatasetNumbers('--distill-box-datasets', boxDatasets, options.dataset.length);
    const untaught = boxDatasets.filter((d) => datasets !== undefined && !datasets.includes(d));
    if (untaught.length > 0) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `--distill-box-datasets: ${untaught.join(',')} not among --distill-datasets ${datasets!.join(',')}: ` +
          'the box term runs only where the teacher teaches',
      );
    }
  }
  const [classification, regression] = options.distill;
  if (options.distill.length !== 2 || !(classification >= 0) || !(regression >= 0)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--distill: expected two weights ≥ 0 as cls,reg (e.g. 1,1) but received ${options.distill.join(',')}`,
    );
  }
  if (!(options.teacherIgnore > 0 && options.teacherIgnore <= 1)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--teacher-ignore: expected a probability in (0, 1] but received ${options.teacherIgnore}`,
    );
  }
  const features = options.distillFeatures;
  if (features !== undefined && !(features > 0 && features <= 1e6)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--distill-features: expected a weight > 0 but received ${features}`,
    );
  }
  const annotated = options.distillAnnotated;
  if (annotated !== undefined && !(annotated > 0 && annotated <= 1)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--distill-annotated: expected an IoU in (0, 1] but received ${annotated}`,
    );
  }
  const boxMaxPrior = options.distillBoxMaxPrior;
  if (boxMaxPrior !== undefined && !(boxMaxPrior > 0 && boxMaxPrior <= 100_000)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--distill-box-max-prior: expected a prior width in pixels > 0 but received ${boxMaxPrior}`,
    );
  }
  const boxMinFace = options.distillBoxMinFace;
  if (boxMinFace !== undefined && !(boxMinFace > 0 && boxMinFace <= 1)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--distill-box-min-face: expected a probability in (0, 1] but received ${boxMinFace}`,
    );
  }
  if (options.distillPositiveBoxes && annotated !== undefined) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      '--distill-positive-boxes and --distill-annotated contradict each other: one lets the teacher box annotated ' +
        'faces, the other keeps it away from them',
    );
  }
  return {
    teacher: options.teacher,
    weights: { classification, regression, ...(features === undefined ? {} : { features }) },
    ignoreThreshold: options.teacherIgnore,
    ...(annotated === undefined ? {} : { annotatedIou: annotated }),
    ...(options.distillPositiveBoxes ? { positiveBoxes: true } : {}),
    ...(boxMaxPrior === undefined ? {} : { boxMaxPrior }),
    ...(boxMinFace === undefined ? {} : { boxMinFace }),
    ...(boxDatasets === undefined ? {} : { boxDatasets: boxDatasets.map((d) => d - 1) }),
    ...(options.teacherInput === undefined ? {} : { input: options.teacherInput }),
    ...(datasets === undefined ? {} : { datasets: datasets.map((d) => d - 1) }),
  };
}

/** A list of --dataset entries counted from 1 (`--distill-datasets`, `--ignore-small-background`): distinct, in range. */
function checkDatasetNumbers(flag: string, numbers: readonly number[], count: number): void {
  if (numbers.some((d) => !(d >= 1 && d <= count)) || new Set(numbers).size !== numbers.length) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `${flag}: expected distinct --dataset numbers from 1 to ${count} but received ${numbers.join(',')}`,
    );
  }
}

/** A preset name as is; otherwise a JSON file of options over a preset, validated here. */
async function readAugmentOption(value: string): Promise<AugmentOptionsInput> {
  if (Object.hasOwn(AUGMENT_PRESETS, value)) return value as AugmentPresetName;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(value, 'utf8'));
  } catch (cause) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--augment: expected default, upstream, none or a JSON file of augmentation options but ${value} ` +
        `could not be read as JSON (${cause instanceof Error ? cause.message : String(cause)})`,
      { cause },
    );
  }
  resolveAugmentOptions(parsed as AugmentOptionsInput); // throws E_INVALID_OPTION naming the bad field
  return parsed as AugmentOptionsInput;
}

/** `ultraface train`: trains on a VOC folder; progress, checkpoints, plots; Ctrl-C saves and stops. */
export async function runTrain(options: TrainCommandOptions, io: CliIo): Promise<number> {
  const augment = await readAugmentOption(options.augment);
  if (options.dataset.length === 0)
    throw new UltrafaceError('E_INVALID_OPTION', '--dataset: expected at least one training dataset');
  const specs = options.dataset.map((text) => withWiderMinFace(parseDatasetSpec(text), options.widerMinFace));
  const distillation = readDistillationOptions(options);
  const smallBackground = options.ignoreSmallBackground;
  if (smallBackground !== undefined) {
    checkDatasetNumbers('--ignore-small-background', smallBackground, options.dataset.length);
  }
  const matchIou = options.matchIou;
  if (matchIou !== undefined && !(matchIou > 0 && matchIou <= 1)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `--match-iou: expected an IoU in (0, 1] but received ${matchIou}`,
    );
  }
  const { samples, datasets } = await loadTrainingDatasets(specs, options.split);
  for (const d of datasets) {
    io.stderr.write(
      `${d.kind} ${d.root}: ${d.images} images, ${d.faces} faces, ${d.ignored} ignore regions` +
        `${d.weight > 1 ? `, ×${d.weight} per epoch` : ''}\n`,
    );
  }
  const validation = options.valDataset
    ? trainingSamplesFromVoc(await readVocDataset(options.valDataset, { split: options.valSplit }))
    : undefined;
  const initialWeights = options.init
    ? readWeightsFile(await readFile(await resolveWeightsSource(options.init)), options.init).weights
    : undefined;
  const title = `${options.net}-${options.inputSize} on ${options.dataset.join(' + ')}`;

  const controller = new AbortController();
  const onSignal = (): void => {
    io.stderr.write('\nStopping after this step; saving a checkpoint (Ctrl-C again to force)...\n');
    controller.abort();
    process.off('SIGINT', onSignal);
  };
  process.on('SIGINT', onSignal);

  const bar = io.interactive
    ? new cliProgress.SingleBar(
        {
          stream: io.stderr as NodeJS.WritableStream,
          format:
            'epoch {epoch} {bar} {value}/{total} | loss {loss} (reg {reg}, cls {cls}) | lr {lr} | {ips} img/s | ETA {eta_formatted}',
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let barEpoch = -1;
  const onStep = (s: StepRecord): void => {
    const payload = {
      epoch: `${s.epoch + 1}/${options.epochs}`,
      loss: (s.lossRegression + s.lossClassification).toFixed(3),
      reg: s.lossRegression.toFixed(3),
      cls: s.lossClassification.toFixed(3),
      lr: s.lr.toPrecision(3),
      ips: s.imagesPerSecond.toFixed(1),
    };
    if (bar) {
      if (barEpoch !== s.epoch) {
        if (barEpoch >= 0) bar.stop();
        bar.start(s.batchesPerEpoch, s.batch, payload);
        barEpoch = s.epoch;
      }
      bar.update(s.batch + 1, payload);
    } else if (s.step % 50 === 0) {
      const distill = s.distillation
        ? ` distill reg ${s.distillation.regression.toFixed(3)}, cls ${s.distillation.classification.toFixed(3)}` +
          (s.distillation.features === undefined ? '' : `, features ${s.distillation.features.toFixed(3)}`) +
          ` (teacher ${s.teacherMs?.toFixed(0)} ms)`
        : '';
      io.stderr.write(
        `step ${s.step} epoch ${payload.epoch} batch ${s.batch + 1}/${s.batchesPerEpoch} loss ${payload.loss} ` +
          `(reg ${payload.reg}, cls ${payload.cls})${distill} lr ${payload.lr} ${payload.ips} img/s\n`,
      );
    }
  };

  try {
    const result = await train({
      config: {
        net: options.net,
        inputSize: options.inputSize,
        epochs: options.epochs,
        batchSize: options.batchSize,
        schedule: {
          kind: options.schedule,
          lr: options.lr,
          milestones: options.milestones,
          tMax: options.tMax,
          epochs: options.epochs,
          warmupSteps: options.warmup,
        },
        momentum: options.momentum,
        weightDecay: options.weightDecay,
        groupScale:
          options.freeze === 'base_net'
            ? { base_net: 0 }
            : options.freeze === 'base_net+extras'
              ? { base_net: 0, extras: 0 }
              : {},
        ...(options.trainOnly === undefined ? {} : { trainOnly: options.trainOnly }),
        augment,
        ...(matchIou === undefined ? {} : { matchThreshold: matchIou }),
        ...(smallBackground === undefined
          ? {}
          : { ignoreSmallBackground: smallBackground.map((d) => d - 1) }),
        seed: options.seed,
        validateEvery: options.validateEvery,
        checkpointEvery: options.checkpointEvery,
        ...(distillation ? { distillation } : {}),
      },
      samples,
      ...(validation ? { validationSamples: validation } : {}),
      outDir: options.out,
      resume: options.resume ?? false,
      overwrite: options.overwrite ?? false,
      keepValidated: options.keepValidated ?? false,
      ...(initialWeights ? { initialWeights } : {}),
      workers: options.workers,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.shards === undefined ? {} : { shards: options.shards }),
      ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
      signal: controller.signal,
      hooks: {
        onStep,
        async onEpoch(record, history) {
          bar?.stop();
          barEpoch = -1;
          io.stderr.write(`${describeEpoch(record)}\n`);
          await writeFileAtomic(join(options.out, 'loss-curve.svg'), lossCurveSvg(history, title));
          const metrics = metricsCurveSvg(history, title);
          if (metrics) await writeFileAtomic(join(options.out, 'metrics-curve.svg'), metrics);
        },
        ...(options.valDataset || options.valWider
          ? { evaluate: (model) => validationMetrics(model, options) }
          : {}),
      },
    });
    bar?.stop();
    if (result.finished) {
      io.stderr.write(`Done: ${result.steps} steps; model in ${result.modelPath}\n`);
    } else {
      io.stderr.write(`Stopped at step ${result.steps}; resume with the same command and --resume\n`);
    }
    return 0;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
}
