/**
 * Teacher-completed annotations (issue #15, point 3): teachers run over a VOC or WIDER dataset (each at one or
 * more input sizes, with a horizontal flip), their boxes are fused (fuse.ts), and a new VOC root is written that
 * keeps every human box and adds the faces the humans left out: fused score ≥ `high` as faces, `low` … `high` as
 * ignore regions (`<difficult>1</difficult>`, which ultraface's training treats as "neither face nor background"
 * and upstream's reader drops). A teacher box that overlaps a human box is that human's face and is not added.
 *
 * Work is resumable: the root is built in `<outDir>.partial/`, one image at a time (its JPEG copied byte for
 * byte, then its annotation written atomically); a rerun skips images whose annotation is there, and the
 * finished folder is renamed to `outDir` at the end. `labeling.json` records the teachers, settings and counts.
 */
import { constants } from 'node:fs';
import { access, copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import sharp from 'sharp';

import { iou, type PixelBox } from '../core/boxes.js';
import { UltrafaceError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { IGNORE_LABEL } from '../core/matching.js';
import { INPUT_SIZES, type InputSizeName } from '../core/presets.js';
import { numberInRange } from '../core/validate.js';
import { loadTrainingDatasets, type DatasetSpec } from '../data/training-datasets.js';
import type { TrainingSample } from '../data/training-set.js';
import { vocAnnotationXml, type VocObject } from '../data/voc-writer.js';
import { readWeightsFile, sniffWeightsFormat } from '../model/import/weights-file.js';
import { createModel } from '../model/model.js';
import { exportOnnx } from '../model/onnx/writer.js';
import { createFaceDetector, type FaceDetector } from '../runtime/node/detector.js';
import { ensureDirectory, writeFileAtomic } from '../runtime/node/files.js';
import { weightedBoxFusion, type ScoredBox } from './fuse.js';

export interface LabelOptions {
  /** The dataset to complete (one; a WIDER train root or a VOC root and split). */
  readonly dataset: DatasetSpec;
  /** VOC split to read, and the split name written. Default `trainval`. */
  readonly split?: string;
  /** Teacher models (anything `createFaceDetector` loads), at least one. */
  readonly teachers: readonly string[];
  /** Input sizes each teacher runs at. Default [640]. */
  readonly sizes?: readonly InputSizeName[];
  /** Also run every teacher on the mirrored image. Default true. */
  readonly flip?: boolean;
  /** Fused score from which a teacher face is added as a face (default 0.7), and as an ignore region (0.3). */
  readonly high?: number;
  readonly low?: number;
  /** IoU above which boxes of different runs are one face (default 0.55). */
  readonly fuseIou?: number;
  /** A teacher box overlapping a human box at this IoU (default 0.3), or lying ≥ 60 % inside one, is that face. */
  readonly humanOverlap?: number;
  /**
   * A human ignore region (WIDER's `invalid` and under-10 px faces, VOC `difficult`) that a teacher face scoring
   * ≥ `high` covers becomes a face. Default false: human ignore regions stay as they are.
   */
  readonly promoteIgnored?: boolean;
  readonly outDir: string;
  /** Replace an existing outDir. Default false. */
  readonly overwrite?: boolean;
  readonly threads?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LabelCounts {
  readonly images: number;
  /** Human boxes kept: faces and ignore regions. */
  readonly humanFaces: number;
  readonly humanIgnored: number;
  /** Teacher faces added as faces and as ignore regions. */
  readonly addedFaces: number;
  readonly addedIgnored: number;
  /** Human ignore regions made faces (`promoteIgnored`; counted in `humanIgnored` too). */
  readonly promoted: number;
}

export interface LabelSummary extends LabelCounts {
  /** Per source: the image id up to its first `_` (faces-voc's photo sets, WIDER's events). */
  readonly bySource: Readonly<Record<string, LabelCounts>>;
  /** Images already done by an earlier, interrupted run (skipped). */
  readonly resumed: number;
}

/** Teacher detections below this never reach fusion. */
const MIN_TEACHER_SCORE = 0.05;
const INSIDE_FRACTION = 0.6;

export async function labelDataset(options: LabelOptions): Promise<LabelSummary> {
  const split = options.split ?? 'trainval';
  const high = numberInRange('high', options.high ?? 0.7, 0, 1);
  const low = numberInRange('low', options.low ?? 0.3, 0, 1);
  if (low > high) {
    throw new UltrafaceError('E_INVALID_OPTION', `Expected low ≤ high but received ${low} > ${high}`);
  }
  const fuseIou = numberInRange('fuseIou', options.fuseIou ?? 0.55, 0, 1);
  const humanOverlap = numberInRange('humanOverlap', options.humanOverlap ?? 0.3, 0, 1);
  const promoteIgnored = options.promoteIgnored ?? false;
  const sizes = options.sizes ?? [640];
  const flip = options.flip ?? true;
  if (options.teachers.length === 0 || sizes.length === 0) {
    throw new UltrafaceError('E_INVALID_OPTION', 'Expected at least one teacher and one input size');
  }
  if (!(options.overwrite ?? false) && (await exists(options.outDir))) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `${options.outDir} exists; choose another folder or pass --overwrite to replace it`,
    );
  }

  const { samples } = await loadTrainingDatasets([{ ...options.dataset, weight: 1 }], split);
  const partial = `${options.outDir}.partial`;
  for (const dir of ['Annotations', 'JPEGImages', join('ImageSets', 'Main'), '.counts'])
    await ensureDirectory(join(partial, dir));

  const detectors: FaceDetector[] = [];
  try {
    for (const teacher of options.teachers) {
      for (const inputSize of sizes) {
        detectors.push(
          await createFaceDetector({
            model: await teacherModel(teacher, inputSize),
            inputSize,
            scoreThreshold: MIN_TEACHER_SCORE,
            candidateSize: 2000,
            ...(options.threads === undefined ? {} : { threads: options.threads }),
          }),
        );
      }
    }
    const ids: string[] = [];
    const perImage: { source: string; counts: LabelCounts }[] = [];
    let resumed = 0;
    for (const [index, sample] of samples.entries()) {
      const id = sample.id.replace(/[/\\]/g, '_');
      ids.push(id);
      const countsPath = join(partial, '.counts', `${id}.json`);
      let counts: LabelCounts;
      if (await exists(countsPath)) {
        // Counts written before `promoted` existed lack it.
        counts = {
          promoted: 0,
          ...(JSON.parse(await readFile(countsPath, 'utf8')) as Partial<LabelCounts>),
        } as LabelCounts;
        resumed++;
      } else {
        counts = await labelImage(sample, id);
        await writeFileAtomic(countsPath, JSON.stringify(counts));
      }
      perImage.push({ source: id.split('_')[0], counts });
      options.onProgress?.(index + 1, samples.length);
    }
    await writeFile(join(partial, 'ImageSets', 'Main', `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
    const summary = summarize(perImage, resumed);
    await writeFile(
      join(partial, 'labeling.json'),
      `${JSON.stringify(
        {
          source: options.dataset,
          split,
          teachers: options.teachers,
          sizes,
          flip,
          high,
          low,
          fuseIou,
          humanOverlap,
          promoteIgnored,
          summary,
        },
        null,
        1,
      )}\n`,
    );
    await rm(join(partial, '.counts'), { recursive: true, force: true });
    await rm(options.outDir, { recursive: true, force: true });
    await rename(partial, options.outDir);
    return summary;
  } finally {
    await Promise.all(detectors.map((d) => d.dispose()));
  }

  async function labelImage(sample: TrainingSample, id: string): Promise<LabelCounts> {
    const path = sample.image as string;
    const image = await decode(path);
    const runs: ScoredBox[][] = [];
    const mirrored = flip ? mirror(image) : undefined;
    for (const detector of detectors) {
      runs.push(await detector.detect(image));
      if (mirrored) {
        const faces = await detector.detect(mirrored);
        runs.push(
          faces.map(({ box, score }) => ({
            box: { x1: image.width - box.x2, y1: box.y1, x2: image.width - box.x1, y2: box.y2 },
            score,
          })),
        );
      }
    }
    const human: { box: PixelBox; ignore: boolean }[] = [];
    for (let i = 0; i < sample.labels.length; i++) {
      const [x1, y1, x2, y2] = Array.from({ length: 4 }, (_, k) => sample.boxes[4 * i + k]);
      human.push({ box: { x1, y1, x2, y2 }, ignore: sample.labels[i] === IGNORE_LABEL });
    }
    const objects: VocObject[] = human.map(({ box, ignore }) => ({
      box: [box.x1, box.y1, box.x2, box.y2],
      difficult: ignore,
    }));
    let addedFaces = 0;
    let addedIgnored = 0;
    let promoted = 0;
    for (const { box, score } of weightedBoxFusion(runs, { iouThreshold: fuseIou })) {
      if (score < low) break; // sorted by score
      const covered = human.findIndex(
        (h) => iou(h.box, box) >= humanOverlap || inside(box, h.box) >= INSIDE_FRACTION,
      );
      if (covered >= 0) {
        if (promoteIgnored && score >= high && objects[covered].difficult) {
          objects[covered] = { ...objects[covered], difficult: false };
          promoted++;
        }
        continue;
      }
      const face = score >= high;
      objects.push({ box: [box.x1, box.y1, box.x2, box.y2], difficult: !face });
      if (face) addedFaces++;
      else addedIgnored++;
    }
    await copyFile(path, join(partial, 'JPEGImages', `${id}.jpg`), constants.COPYFILE_FICLONE);
    await writeFileAtomic(
      join(partial, 'Annotations', `${id}.xml`),
      vocAnnotationXml({
        filename: `${id}.jpg`,
        width: image.width,
        height: image.height,
        depth: 3,
        objects,
        folder: 'ultraface-label',
        database: 'ultraface label',
      }),
    );
    const humanIgnored = human.filter((h) => h.ignore).length;
    return {
      images: 1,
      humanFaces: human.length - humanIgnored,
      humanIgnored,
      addedFaces,
      addedIgnored,
      promoted,
    };
  }
}

/**
 * The teacher as a detector model: an ONNX model as is; weights (`.pth`, a checkpoint's export) built into one
 * at `inputSize`.
 */
async function teacherModel(path: string, inputSize: InputSizeName): Promise<string | Uint8Array> {
  const bytes = await readFile(path).catch((cause: unknown) => {
    throw new UltrafaceError('E_FILE_NOT_FOUND', `Cannot read the teacher ${path}`, { cause });
  });
  if (sniffWeightsFormat(bytes) === 'onnx') return path;
  const { weights } = readWeightsFile(bytes, path);
  return exportOnnx(createModel(weights), { inputSize: INPUT_SIZES[inputSize], source: path });
}

/** Fraction of `a`'s area inside `b`. */
function inside(a: PixelBox, b: PixelBox): number {
  const w = Math.max(Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), 0);
  const h = Math.max(Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1), 0);
  const area = Math.max(a.x2 - a.x1, 0) * Math.max(a.y2 - a.y1, 0);
  return area > 0 ? (w * h) / area : 0;
}

function summarize(
  perImage: readonly { source: string; counts: LabelCounts }[],
  resumed: number,
): LabelSummary {
  const zero = (): { -readonly [K in keyof LabelCounts]: number } => ({
    images: 0,
    humanFaces: 0,
    humanIgnored: 0,
    addedFaces: 0,
    addedIgnored: 0,
    promoted: 0,
  });
  const total = zero();
  const bySource: Record<string, ReturnType<typeof zero>> = {};
  for (const { source, counts } of perImage) {
    const own = (bySource[source] ??= zero());
    for (const key of Object.keys(total) as (keyof LabelCounts)[]) {
      total[key] += counts[key];
      own[key] += counts[key];
    }
  }
  return { ...total, bySource, resumed };
}

async function decode(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path, { autoOrient: true, ignoreIcc: true, failOn: 'error' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (cause) {
    throw new UltrafaceError('E_DATASET', `${path}: cannot decode image`, { cause });
  }
}

/** The image mirrored left–right. [H, W, 3] */
function mirror(image: RgbImage): RgbImage {
  const { width, height } = image;
  const out = new Uint8Array(image.data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const from = row + x * 3;
      const to = row + (width - 1 - x) * 3;
      out[to] = image.data[from];
      out[to + 1] = image.data[from + 1];
      out[to + 2] = image.data[from + 2];
    }
  }
  return { data: out, width, height, channels: 3 };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
