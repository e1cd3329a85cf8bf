import type { InputSizeName } from '../../core/presets.js';
import type { CalibrationMethod } from '../../quantize/ranges.js';
import { quantizeModel } from '../../quantize/quantize.js';
import type { WeightRange } from '../../quantize/weights.js';
import { writeFileAtomic } from '../../runtime/node/files.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';
import { resolveModelOption } from './convert.js';

export interface QuantizeCommandOptions {
  readonly calibration: string;
  readonly out: string;
  readonly split?: string;
  readonly images?: number;
  readonly method?: CalibrationMethod;
  readonly percentile?: number;
  /** `--per-channel` / `--no-per-channel` (unset: the library default, per channel). */
  readonly perChannel?: boolean;
  /** `--no-equalize`, `--no-bias-correction`. */
  readonly equalize?: boolean;
  readonly biasCorrection?: boolean;
  readonly weightRange?: WeightRange;
  readonly floatConvs?: string;
  readonly inputSize?: InputSizeName;
  readonly threads?: number;
  /** Print the report as JSON on stdout. */
  readonly json?: boolean;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/**
 * `ultraface quantize`: an fp32 model (a path, a bundled model's name, or `upstream:rfb-320`) → an int8 QDQ model
 * calibrated on images (quantizeModel).
 */
export async function runQuantize(
  model: string,
  options: QuantizeCommandOptions,
  io: CliIo,
): Promise<number> {
  const source = await resolveModelOption(model, io);
  const bar = progressBar(io, 'calibrate');
  let result;
  try {
    result = await quantizeModel({
      model: source,
      calibration: options.calibration,
      onProgress: (done: number, total: number) => {
        bar.update(done, total);
      },
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.images === undefined ? {} : { images: options.images }),
      ...(options.method === undefined ? {} : { method: options.method }),
      ...(options.percentile === undefined ? {} : { percentile: options.percentile }),
      ...(options.perChannel === undefined ? {} : { perChannel: options.perChannel }),
      ...(options.equalize === undefined ? {} : { equalize: options.equalize }),
      ...(options.biasCorrection === undefined ? {} : { biasCorrection: options.biasCorrection }),
      ...(options.weightRange === undefined ? {} : { weightRange: options.weightRange }),
      ...(options.floatConvs === undefined
        ? {}
        : { floatConvs: options.floatConvs.split(',').filter((name) => name !== '') }),
      ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
    });
  } finally {
    bar.stop();
  }
  const { onnx, report } = result;
  await writeFileAtomic(options.out, onnx);
  if (options.json) {
    // Without the per-tensor ranges (dozens of entries; they are in the report of the library call).
    io.stdout.write(`${JSON.stringify({ out: options.out, ...report, ranges: undefined })}\n`);
  }
  const method = report.method === 'percentile' ? `percentile ${report.percentile}` : report.method;
  io.stderr.write(
    `Wrote ${options.out}: int8, ${report.inputSize.width}x${report.inputSize.height} input, ` +
      `${kib(report.int8Bytes)} ` +
      `(fp32 ${kib(report.fp32Bytes)}); ${report.convs} int8 convs, ${report.activations} calibrated activations\n` +
      `Calibrated on ${report.images} of ${report.available} images (${report.calibration}), ${method}; ` +
      `${report.equalized} tensors equalized; weights ${report.perChannel ? 'per channel' : 'per tensor'}, ` +
      `${report.weightRange} range\n` +
      `int8 vs fp32 face scores on ${report.agreement.images} calibration images: mean |Δ| ` +
      `${report.agreement.meanScoreError.toFixed(4)} (scores ≥ 0.1), ` +
      `max ${report.agreement.maxScoreError.toFixed(3)}\n`,
  );
  return 0;
}
