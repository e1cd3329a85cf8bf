import { basename, join } from 'node:path';

import { isUltrafaceError } from '../../core/errors.js';
import type { InputSizeName } from '../../core/presets.js';
import { drawDetections } from '../../runtime/node/draw.js';
import { createFaceDetector } from '../../runtime/node/detector.js';
import { expandImageInputs } from '../files.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';

export interface DetectCommandOptions {
  readonly model?: string;
  readonly inputSize?: InputSizeName;
  readonly threshold?: number;
  readonly iou?: number;
  readonly topK?: number;
  readonly candidateSize?: number;
  readonly threads?: number;
  /** Folder for annotated copies of the images. */
  readonly out?: string;
  /** JSON lines on stdout instead of a summary. */
  readonly json?: boolean;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** `ultraface detect`: faces in files and folders; returns the exit code (1 when any image failed). */
export async function runDetect(
  inputs: readonly string[],
  options: DetectCommandOptions,
  io: CliIo,
): Promise<number> {
  const files = await expandImageInputs(inputs);
  const detector = await createFaceDetector({
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
    ...(options.threshold === undefined ? {} : { scoreThreshold: options.threshold }),
    ...(options.iou === undefined ? {} : { iouThreshold: options.iou }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
    ...(options.candidateSize === undefined ? {} : { candidateSize: options.candidateSize }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  const bar = files.length > 1 ? progressBar(io, 'detect') : undefined;
  let failures = 0;
  let faces = 0;
  try {
    for (const [index, file] of files.entries()) {
      try {
        const detections = await detector.detect(file);
        faces += detections.length;
        if (options.out !== undefined)
          await drawDetections(file, detections, join(options.out, basename(file)));
        if (options.json) {
          const rows = detections.map((d) => ({
            box: {
              x1: round(d.box.x1, 2),
              y1: round(d.box.y1, 2),
              x2: round(d.box.x2, 2),
              y2: round(d.box.y2, 2),
            },
            score: round(d.score, 5),
          }));
          io.stdout.write(`${JSON.stringify({ file, faces: rows })}\n`);
        } else if (!io.interactive) {
          io.stdout.write(`${file}: ${detections.length} face${detections.length === 1 ? '' : 's'}\n`);
        }
      } catch (error) {
        if (!isUltrafaceError(error)) throw error;
        failures++;
        if (options.json)
          io.stdout.write(
            `${JSON.stringify({ file, error: { code: error.code, message: error.message } })}\n`,
          );
        io.stderr.write(`${file}: ${error.code}: ${error.message}\n`);
      }
      bar?.update(index + 1, files.length);
    }
  } finally {
    bar?.stop();
    await detector.dispose();
  }
  if (!options.json) {
    const where = options.out === undefined ? '' : `; annotated images in ${options.out}`;
    io.stderr.write(
      `${faces} faces in ${files.length - failures} images${failures ? `, ${failures} failed` : ''}${where}\n`,
    );
  }
  return failures > 0 ? 1 : 0;
}
