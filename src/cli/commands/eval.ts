import { join } from 'node:path';

import { UltrafaceError } from '../../core/errors.js';
import {
  renderPrCurvesSvg,
  summarizeVoc,
  summarizeWider,
  vocPrCurve,
  widerPrCurves,
  type EvaluationSummary,
} from '../../eval/pr-plot.js';
import type { EvalProtocol } from '../../eval/protocols.js';
import { runVocEvaluation, runWiderEvaluation, type EvalTiming } from '../../eval/run.js';
import { readDefaultModel } from '../../runtime/node/detector.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import type { DecodeMode } from '../../runtime/node/image.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';
import { resolveModelOption } from './convert.js';

export interface EvalCommandOptions {
  /** A path, a bundled model's name, or upstream's weights by name (`upstream:rfb-320`). */
  readonly model?: string;
  readonly wider?: string;
  readonly voc?: string;
  readonly split?: string;
  readonly protocol: EvalProtocol;
  readonly threads?: number;
  readonly decode?: DecodeMode;
  /** Folder for predictions (WIDER), `summary.json` and `pr-curves.svg`. */
  readonly out?: string;
}

const ap = (value: number | null | undefined): string => (value == null ? 'n/a' : value.toFixed(4));

/**
 * `ultraface eval`: WIDER FACE easy/medium/hard AP (official protocol) or VOC AP50 of a model (default: the
 * shipped default model, as for `detect`).
 */
export async function runEval(options: EvalCommandOptions, io: CliIo): Promise<number> {
  if ((options.wider === undefined) === (options.voc === undefined)) {
    throw new UltrafaceError('E_INVALID_OPTION', 'Expected exactly one of --wider <root> or --voc <root>');
  }
  // Without --model, the shipped default model, as for `detect` (E_MODEL_MISSING when it is not there).
  const model =
    options.model === undefined
      ? (await readDefaultModel()).source
      : await resolveModelOption(options.model, io);
  const bar = progressBar(io, 'eval');
  const common = {
    model,
    protocol: options.protocol,
    onProgress: (done: number, total: number) => {
      bar.update(done, total);
    },
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.decode === undefined ? {} : { decode: options.decode }),
  };
  let summary: EvaluationSummary;
  let svg: string;
  let timing: EvalTiming;
  try {
    if (options.wider !== undefined) {
      const run = await runWiderEvaluation({
        ...common,
        root: options.wider,
        ...(options.out === undefined ? {} : { predictionsDir: join(options.out, 'predictions') }),
      });
      summary = summarizeWider(run.evaluation);
      if (run.groundTruth === 'split-txt') {
        // No official easy/medium/hard lists: the three settings are the same "all valid faces" set.
        summary = { ...summary, ap: { all: summary.ap.hard ?? null } };
        io.stderr.write(
          'No eval_tools/ground_truth/*.mat: scoring all valid faces of the split txt as one set\n',
        );
      }
      svg = renderPrCurvesSvg(widerPrCurves(run.evaluation), { title: `WIDER FACE (${options.protocol})` });
      timing = run.timing;
    } else {
      const run = await runVocEvaluation({
        ...common,
        root: options.voc!,
        ...(options.split === undefined ? {} : { split: options.split }),
      });
      summary = summarizeVoc(run.result);
      svg = renderPrCurvesSvg([vocPrCurve(run.result)], {
        title: `VOC ${options.split ?? 'test'} (${options.protocol})`,
      });
      timing = run.timing;
    }
  } finally {
    bar.stop();
  }

  for (const [label, value] of Object.entries(summary.ap))
    io.stdout.write(`${`${label} AP:`.padEnd(12)} ${ap(value)}\n`);
  io.stderr.write(
    `${timing.images} images in ${timing.seconds.toFixed(1)} s (${timing.imagesPerSecond.toFixed(1)} images/s), ` +
      `protocol ${options.protocol}\n`,
  );
  if (options.out !== undefined) {
    const report = { ...summary, model: options.model ?? model, detection: options.protocol, timing };
    await writeFileAtomic(join(options.out, 'summary.json'), `${JSON.stringify(report, null, 1)}\n`);
    await writeFileAtomic(join(options.out, 'pr-curves.svg'), svg);
    io.stderr.write(`Wrote ${join(options.out, 'summary.json')} and pr-curves.svg\n`);
  }
  return 0;
}
