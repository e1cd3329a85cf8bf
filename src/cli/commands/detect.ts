import { readFile } from 'node:fs/promises';

import { isUltrafaceError, UltrafaceError } from '../../core/errors.js';
import type { Detection } from '../../core/postprocess.js';
import type { InputSizeName } from '../../core/presets.js';
import { drawDetections } from '../../runtime/node/draw.js';
import { createFaceDetector, type FaceDetector } from '../../runtime/node/detector.js';
import { ensureDirectory } from '../../runtime/node/files.js';
import type { DecodeMode } from '../../runtime/node/image.js';
import { annotatedPaths, emptyFolderMessage, expandImageInputs, type ImageSource } from '../files.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';
import { resolveModelOption } from './convert.js';

export interface DetectCommandOptions {
  readonly model?: string;
  readonly inputSize?: InputSizeName;
  readonly threshold?: number;
  readonly iou?: number;
  readonly topK?: number;
  readonly candidateSize?: number;
  readonly threads?: number;
  readonly decode?: DecodeMode;
  /** Folder for annotated copies of the images (`annotatedPaths`: never over an input). */
  readonly out?: string;
  /** JSON lines on stdout instead of a summary. */
  readonly json?: boolean;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * `ultraface detect`: faces in files, folders and stdin (`-`); returns the exit code. Each image is reported in
 * its place, whatever happens to the others; the code is 1 when any image failed (missing, undecodable, its
 * annotated copy not written) or when there was no image at all.
 */
export async function runDetect(
  inputs: readonly string[],
  options: DetectCommandOptions,
  io: CliIo,
): Promise<number> {
  const { images, emptyFolders } = await expandImageInputs(inputs);
  for (const folder of emptyFolders) io.stderr.write(`warning: ${emptyFolderMessage(folder)}\n`);
  if (images.length === 0) {
    io.stderr.write('No images found: nothing was processed\n');
    return 1;
  }
  // Checked before any work: no copy over an input, and an --out that cannot be created fails at once.
  const targets = options.out === undefined ? undefined : await annotatedPaths(images, options.out);
  if (options.out !== undefined) await ensureDirectory(options.out);
  const detector = await createFaceDetector({
    ...(options.model === undefined ? {} : { model: await resolveModelOption(options.model, io) }),
    ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
    ...(options.threshold === undefined ? {} : { scoreThreshold: options.threshold }),
    ...(options.iou === undefined ? {} : { iouThreshold: options.iou }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
    ...(options.candidateSize === undefined ? {} : { candidateSize: options.candidateSize }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.decode === undefined ? {} : { decode: options.decode }),
  });
  const bar = images.length > 1 ? progressBar(io, 'detect') : undefined;
  const print = (write: () => void): void => {
    if (bar) bar.log(write);
    else write();
  };
  const tally = { faces: 0, detected: 0, unreadable: 0, written: 0 };
  let stopped = false;
  try {
    for (const [index, image] of images.entries()) {
      if (io.signal?.aborted) {
        stopped = true; // stdout was closed (`| head`): nobody reads the rest
        break;
      }
      const target = targets?.[index];
      const { detections, error } = await processImage(image, detector, target, io);
      if (detections) {
        tally.detected++;
        tally.faces += detections.length;
        if (target !== undefined && !error) tally.written++;
      } else {
        tally.unreadable++;
      }
      print(() => {
        const file = image.path;
        if (options.json) {
          const line = {
            file,
            ...(detections && { faces: detections.map(jsonFace) }),
            ...(error && { error: { code: error.code, message: error.message } }),
          };
          io.stdout.write(`${JSON.stringify(line)}\n`);
        } else if (detections) {
          io.stdout.write(`${file}: ${count(detections.length, 'face')}\n`);
        }
        if (error) io.stderr.write(`${file}: ${error.code}: ${error.message}\n`);
      });
      bar?.update(index + 1, images.length);
    }
  } finally {
    bar?.stop();
    await detector.dispose();
  }
  const failed = tally.unreadable + (targets ? tally.detected - tally.written : 0);
  if (!options.json && !stopped) io.stderr.write(`${summary(tally, options.out)}\n`);
  return failed > 0 ? 1 : 0;
}

/** `3 faces in 2 images; 1 image failed; annotated images in out/` */
function summary(
  tally: { faces: number; detected: number; unreadable: number; written: number },
  out: string | undefined,
): string {
  let text = `${count(tally.faces, 'face')} in ${count(tally.detected, 'image')}`;
  if (tally.unreadable > 0) text += `; ${count(tally.unreadable, 'image')} failed`;
  if (out !== undefined && tally.detected > 0) {
    if (tally.written === 0) text += '; no annotated images written';
    else if (tally.written < tally.detected)
      text += `; ${tally.written} of ${tally.detected} annotated images written to ${out}`;
    else text += `; annotated ${tally.written === 1 ? 'image' : 'images'} in ${out}`;
  }
  return text;
}

function jsonFace(d: Detection): { box: Detection['box']; score: number } {
  return {
    box: { x1: round(d.box.x1, 2), y1: round(d.box.y1, 2), x2: round(d.box.x2, 2), y2: round(d.box.y2, 2) },
    score: round(d.score, 5),
  };
}

/**
 * Detects in one image and writes its annotated copy to `target`. `detections` are kept even when the copy
 * fails (`error` then says why); without them, `error` says why the image could not be read.
 */
async function processImage(
  image: ImageSource,
  detector: FaceDetector,
  target: string | undefined,
  io: CliIo,
): Promise<{ detections?: Detection[]; error?: UltrafaceError }> {
  if (image.error) return { error: image.error };
  let source: string | Uint8Array = image.path;
  let detections: Detection[];
  try {
    // A stream can be read only once: its bytes serve both the detection and the annotated copy.
    if (image.kind !== 'file') source = await readOnce(image, io);
    detections = await detector.detect(source);
  } catch (error) {
    if (!isUltrafaceError(error)) throw error;
    return { error };
  }
  if (target === undefined) return { detections };
  try {
    await drawDetections(source, detections, target);
    return { detections };
  } catch (error) {
    if (!isUltrafaceError(error)) throw error;
    return { detections, error };
  }
}

async function readOnce(image: ImageSource, io: CliIo): Promise<Uint8Array> {
  if (image.kind === 'stdin') {
    if (!io.readStdin) throw new UltrafaceError('E_INVALID_INPUT', 'There is no standard input to read');
    return io.readStdin();
  }
  try {
    return await readFile(image.path);
  } catch (cause) {
    throw new UltrafaceError('E_IMAGE_DECODE', `Cannot read ${image.path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
