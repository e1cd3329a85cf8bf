/**
 * Training data from several datasets at once (issue #15): VOC roots and WIDER FACE train roots, each read
 * directly, mixed with a per-dataset weight. Faces that must be learned neither as faces nor as background
 * become ignore regions (label IGNORE_LABEL, core/matching.ts): WIDER's `invalid` faces and faces under its
 * minimum size (upstream drops them, so they turn into background), and VOC `difficult` objects.
 *
 * A dataset is named on the command line as `[voc:|wider:]PATH[:WEIGHT]`. Without a prefix the kind is read from
 * the folder (a `wider_face_split/` folder means WIDER). WEIGHT, a positive integer (default 1), is how many
 * times the dataset's images enter each epoch; each copy draws its own augmentation.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

import { UltrafaceError } from '../core/errors.js';
import { IGNORE_LABEL } from '../core/matching.js';
import { integerInRange, knownKeys, numberInRange } from '../core/validate.js';
import type { TrainingSample } from './training-set.js';
import { readVocDataset } from './voc.js';
import { readWiderSplitTxt, WIDER_ATTRIBUTES } from './wider-txt.js';

export type DatasetKind = 'voc' | 'wider';

export interface DatasetSpec {
  readonly kind?: DatasetKind;
  readonly root: string;
  /** Copies of the dataset per epoch. Default 1. */
  readonly weight?: number;
  /**
   * WIDER only: faces with a side under this many image pixels become ignore regions. Default
   * `WIDER_MIN_FACE_SIZE`, upstream's rule on the full-size (1024 px wide) photos; scale it with a resized copy
   * (10 × 800 / 1024 = 7.8 for widerface-train-1k at longest side 800).
   */
  readonly minFaceSize?: number;
}

/** Where a WIDER FACE train root keeps its annotations and images. */
export const WIDER_TRAIN_ANNOTATIONS = join('wider_face_split', 'wider_face_train_bbx_gt.txt');
export const WIDER_TRAIN_IMAGES = join('WIDER_train', 'images');
/** Upstream's `minsize2select` (SPEC §6.2): smaller WIDER faces are not trained on (here: ignored). */
export const WIDER_MIN_FACE_SIZE = 10;

/**
 * `[voc:|wider:]PATH[:WEIGHT]` → a spec. A trailing `:N` is a weight only when N is digits, so Windows drive
 * letters and paths with colons elsewhere stay paths.
 */
export function parseDatasetSpec(text: string): DatasetSpec {
  let rest = text;
  let kind: DatasetKind | undefined;
  const prefix = /^(voc|wider):/.exec(rest);
  if (prefix) {
    kind = prefix[1] as DatasetKind;
    rest = rest.slice(prefix[0].length);
  }
  let weight: number | undefined;
  const suffix = /:(\d+)$/.exec(rest);
  if (suffix) {
    weight = Number(suffix[1]);
    rest = rest.slice(0, -suffix[0].length);
  }
  if (rest === '') {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected a dataset as [voc:|wider:]PATH[:WEIGHT] but received ${JSON.stringify(text)}`,
    );
  }
  if (weight !== undefined) integerInRange(`the weight of dataset ${rest}`, weight, 1, 1000);
  return { ...(kind ? { kind } : {}), root: rest, ...(weight === undefined ? {} : { weight }) };
}

/** `spec` with WIDER's minimum face size set where one is given (a CLI-wide `--wider-min-face`). */
export function withWiderMinFace(spec: DatasetSpec, minFaceSize: number | undefined): DatasetSpec {
  return minFaceSize === undefined ? spec : { ...spec, minFaceSize };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The kind of a dataset root: WIDER when it holds `wider_face_split/`, else VOC. */
export async function detectDatasetKind(root: string): Promise<DatasetKind> {
  return (await exists(join(root, 'wider_face_split'))) ? 'wider' : 'voc';
}

export interface WiderSamplesOptions {
  /** Faces with a side under this (image pixels) become ignore regions. Default 10. */
  readonly minFaceSize?: number;
}

/**
 * The samples of a WIDER FACE train root (`WIDER_train/images/…`, `wider_face_split/wider_face_train_bbx_gt.txt`),
 * read directly: boxes [x, y, x + w, y + h] as written (no truncation, no one-pixel shift); faces with no area
 * are dropped; `invalid` and small faces are ignore regions. Images without a face to learn are left out.
 */
export async function trainingSamplesFromWider(
  root: string,
  options: WiderSamplesOptions = {},
): Promise<TrainingSample[]> {
  knownKeys('WIDER training options', options, ['minFaceSize']);
  const minFaceSize = numberInRange(
    'the WIDER minimum face size (--wider-min-face)',
    options.minFaceSize ?? WIDER_MIN_FACE_SIZE,
    0,
    1e6,
  );
  const images = await readWiderSplitTxt(join(root, WIDER_TRAIN_ANNOTATIONS));
  const invalid = WIDER_ATTRIBUTES.indexOf('invalid');
  const samples: TrainingSample[] = [];
  for (const image of images) {
    const boxes: number[] = [];
    const labels: number[] = [];
    let faces = 0;
    for (let i = 0; i < image.boxes.length / 4; i++) {
      const [x, y, w, h] = image.boxes.subarray(4 * i, 4 * i + 4);
      if (!(w > 0 && h > 0)) continue;
      const ignore = image.attributes[6 * i + invalid] !== 0 || w < minFaceSize || h < minFaceSize;
      boxes.push(x, y, x + w, y + h);
      labels.push(ignore ? IGNORE_LABEL : 1);
      if (!ignore) faces++;
    }
    if (faces === 0) continue;
    samples.push({
      id: image.path.replace(/\.jpg$/i, ''),
      image: join(root, WIDER_TRAIN_IMAGES, image.path),
      boxes: Float64Array.from(boxes),
      labels: Int32Array.from(labels),
    });
  }
  return samples;
}

/** The samples of a VOC split; `difficult` objects become ignore regions (upstream drops them). */
export async function trainingSamplesFromVocRoot(root: string, split: string): Promise<TrainingSample[]> {
  const dataset = await readVocDataset(root, { split, keepDifficult: true });
  return dataset.images
    .filter((image) => image.difficult.some((d) => d === 0))
    .map((image) => ({
      id: image.id,
      image: image.imagePath,
      boxes: image.boxes,
      labels: Int32Array.from(image.labels, (label, i) => (image.difficult[i] ? IGNORE_LABEL : label)),
      width: image.width,
      height: image.height,
    }));
}

export interface LoadedDataset {
  readonly kind: DatasetKind;
  readonly root: string;
  readonly weight: number;
  /** Distinct images (before the weight's copies). */
  readonly images: number;
  readonly faces: number;
  readonly ignored: number;
}

/**
 * Reads and mixes datasets into one sample list: each dataset's samples `weight` times, in spec order (the
 * trainer shuffles), each marked with its dataset's index in `specs`. Copies get ids `<id>#<copy>` so errors and
 * logs stay unambiguous.
 * @param split the VOC split to read (WIDER roots have one)
 * @throws UltrafaceError E_DATASET when a dataset has no image with a face
 */
export async function loadTrainingDatasets(
  specs: readonly DatasetSpec[],
  split: string,
): Promise<{ samples: TrainingSample[]; datasets: LoadedDataset[] }> {
  const samples: TrainingSample[] = [];
  const datasets: LoadedDataset[] = [];
  for (const [dataset, spec] of specs.entries()) {
    const kind = spec.kind ?? (await detectDatasetKind(spec.root));
    const weight = spec.weight ?? 1;
    const own =
      kind === 'wider'
        ? await trainingSamplesFromWider(spec.root, { minFaceSize: spec.minFaceSize })
        : await trainingSamplesFromVocRoot(spec.root, split);
    if (own.length === 0) {
      throw new UltrafaceError(
        'E_DATASET',
        `No image with faces in ${kind === 'wider' ? 'WIDER' : 'VOC'} dataset ${spec.root}` +
          (kind === 'voc' ? ` split ${split}` : ''),
      );
    }
    let faces = 0;
    let ignored = 0;
    for (const s of own) {
      for (let i = 0; i < s.labels.length; i++) {
        if (s.labels[i] === IGNORE_LABEL) ignored++;
        else faces++;
      }
    }
    for (let copy = 0; copy < weight; copy++) {
      for (const s of own)
        samples.push({ ...s, dataset, ...(copy === 0 ? {} : { id: `${s.id}#${copy + 1}` }) });
    }
    datasets.push({ kind, root: spec.root, weight, images: own.length, faces, ignored });
  }
  return { samples, datasets };
}
