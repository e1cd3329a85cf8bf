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
} from '../../data/augment.js';
import { trainingSamplesFromVoc } from '../../data/training-set.js';
import { readVocDataset } from '../../data/voc.js';
import { renderLineChartSvg } from '../../eval/chart.js';
import { runVocEvaluation } from '../../eval/run.js';
import { readWeightsFile } from '../../model/import/weights-file.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import type { ScheduleKind } from '../../train/schedule.js';
import { train, type EpochRecord, type StepRecord } from '../../train/trainer.js';
import type { CliIo } from '../io.js';

export interface TrainCommandOptions {
  readonly net: NetVersion;
  readonly inputSize: InputSizeName;
  readonly dataset: string;
  readonly split: string;
  readonly valDataset?: string;
  readonly valSplit: string;
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
  readonly init?: string;
  readonly seed: number;
  readonly validateEvery: number;
  readonly checkpointEvery: number;
  readonly workers: number;
  readonly threads?: number;
  readonly shards?: number;
  readonly out: string;
  readonly resume?: boolean;
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

function describeEpoch(record: EpochRecord): string {
  const parts = [
    `epoch ${record.epoch + 1}`,
    `loss ${(record.lossRegression + record.lossClassification).toFixed(4)} (reg ${record.lossRegression.toFixed(4)}, cls ${record.lossClassification.toFixed(4)})`,
  ];
  if (record.validationLoss) {
    const v = record.validationLoss;
    parts.push(`val ${(v.regression + v.classification).toFixed(4)}`);
  }
  for (const [name, value] of Object.entries(record.metrics ?? {})) parts.push(`${name} ${value.toFixed(4)}`);
  parts.push(`lr ${record.lr.toPrecision(3)}`, `${record.seconds.toFixed(0)} s`);
  return parts.join(' | ');
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
  const dataset = await readVocDataset(options.dataset, { split: options.split });
  const samples = trainingSamplesFromVoc(dataset);
  if (samples.length === 0) {
    throw new UltrafaceError('E_DATASET', `No image with faces in ${options.dataset} split ${options.split}`);
  }
  const validation = options.valDataset
    ? trainingSamplesFromVoc(await readVocDataset(options.valDataset, { split: options.valSplit }))
    : undefined;
  const initialWeights = options.init
    ? readWeightsFile(await readFile(options.init), options.init).weights
    : undefined;
  const title = `${options.net}-${options.inputSize} on ${options.dataset}`;

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
      io.stderr.write(
        `step ${s.step} epoch ${payload.epoch} batch ${s.batch + 1}/${s.batchesPerEpoch} loss ${payload.loss} ` +
          `(reg ${payload.reg}, cls ${payload.cls}) lr ${payload.lr} ${payload.ips} img/s\n`,
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
        augment,
        seed: options.seed,
        validateEvery: options.validateEvery,
        checkpointEvery: options.checkpointEvery,
      },
      samples,
      ...(validation ? { validationSamples: validation } : {}),
      outDir: options.out,
      resume: options.resume ?? false,
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
        },
        ...(options.valDataset
          ? {
              evaluate: async (model) => {
                const { result } = await runVocEvaluation({
                  model,
                  root: options.valDataset!,
                  split: options.valSplit,
                  ...(options.threads === undefined ? {} : { threads: options.threads }),
                });
                return { AP50: result.ap };
              },
            }
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
