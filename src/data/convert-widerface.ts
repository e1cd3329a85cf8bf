/**
 * WIDER FACE → Pascal-VOC folder, the dataset upstream trains on (SPEC §6.2, `wider_face_2_voc_add_landmark.py`).
 *
 * Kept from upstream:
 * - a face is kept iff its truncated width and height are both ≥ minSize (default 10; B21); faces with a
 *   truncated w or h ≤ 0 are dropped whatever minSize;
 * - images left with no face are dropped (not written, not listed): an image without positives would make the
 *   multibox loss divide by zero (B8), and upstream's 3 219 validation images are what comparisons assume;
 * - output names `<event>_<name>`; split `train` → `trainval`, `val` → `test`.
 *
 * Changed, on purpose:
 * - no one-pixel shift (B3). Upstream writes xmin = x, xmax = x + w and its reader subtracts 1, so it trains on
 *   [x − 1, y − 1, x + w − 1, y + h − 1]. We write every coordinate + 1 (xmin = x + 1, xmax = x + w + 1) so that
 *   the reader's − 1 (voc.ts, SPEC §6.1) gives back exactly [x, y, x + w, y + h] of the truncated WIDER box;
 * - every face line of an image is used (B2), the file is parsed strictly (blank lines do not end it, B20);
 * - JPEGs are copied byte for byte, never re-encoded; so small faces are not painted over (upstream's painting
 *   survives only for the last face line of an image anyway, B2) and stay in the image unlabeled;
 * - the output is built in `<outDir>.tmp-<pid>` and renamed into place at the end: a failed run leaves nothing.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import sharp from 'sharp';

import { UltrafaceError } from '../core/errors.js';
import { integerInRange, knownKeys } from '../core/validate.js';
import { datasetError, mapConcurrent, readDatasetText, splitName } from './dataset-io.js';
import { parseRetinafaceLabels } from './retinaface-label.js';
import { vocAnnotationXml } from './voc-writer.js';
import { parseWiderSplitTxt } from './wider-txt.js';

export interface ConvertWiderOptions {
  /** Folder holding `<event>/<name>.jpg`, e.g. `WIDER_train/images`. */
  readonly imagesDir: string;
  /** `wider_face_<set>_bbx_gt.txt`, or a RetinaFace `label.txt` (recognised by its leading `#`). */
  readonly annotations: string;
  /** The VOC folder to create. */
  readonly outDir: string;
  /** Smallest kept face side in pixels, after truncation to an integer. Default 10 (upstream's `minsize2select`). */
  readonly minSize?: number;
  /** Name of `ImageSets/Main/<split>.txt`. Default: `trainval` for train annotations, `test` for val ones. */
  readonly split?: string;
  /** Replace an existing non-empty outDir. Default false. */
  readonly overwrite?: boolean;
  /** Called after each annotated image with (images done, images in the annotations). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ConvertWiderResult {
  readonly split: string;
  /** Images written (those with at least one kept face). */
  readonly images: number;
  /** Faces written. */
  readonly faces: number;
  /** Face lines dropped: smaller than minSize or with a non-positive side. */
  readonly droppedFaces: number;
  /** Images dropped because no face was kept. */
  readonly droppedImages: number;
}

const OPTION_KEYS = ['imagesDir', 'annotations', 'outDir', 'minSize', 'split', 'overwrite', 'onProgress'];

export async function convertWiderToVoc(options: ConvertWiderOptions): Promise<ConvertWiderResult> {
  knownKeys('convertWiderToVoc options', options, OPTION_KEYS);
  const { imagesDir, annotations, outDir, overwrite = false, onProgress } = options;
  const minSize = integerInRange('minSize', options.minSize ?? 10, 0, 1_000_000);
  const split = splitName(options.split ?? defaultSplit(annotations));
  if (!overwrite && (await listDir(outDir)).length > 0) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `outDir ${outDir} exists and is not empty; pass overwrite: true to replace it`,
    );
  }

  const text = await readDatasetText(annotations);
  const images = text.trimStart().startsWith('#')
    ? parseRetinafaceLabels(text, annotations)
    : parseWiderSplitTxt(text, annotations);

  // Per image: its VOC id and kept boxes [x1, y1, x2, y2] with x2 = x + w, integer pixels.
  const converted = images.map((image) => ({
    image,
    id: image.path.replace(/\.jpg$/i, '').replace(/[/\\]/g, '_'),
    boxes: keptWiderBoxes(image.boxes, minSize),
  }));
  const written = converted.filter(({ boxes }) => boxes.length > 0);
  const ids = written.map(({ id }) => id);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw datasetError(annotations, `image ${id} is listed twice`);
    seen.add(id);
  }

  const tmp = `${outDir}.tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    for (const dir of ['Annotations', 'ImageSets/Main', 'JPEGImages']) {
      await mkdir(join(tmp, dir), { recursive: true });
    }
    let done = 0;
    await mapConcurrent(converted, 8, async ({ image, id, boxes }) => {
      if (boxes.length > 0) {
        const source = join(imagesDir, image.path);
        const { width, height, channels } = await sharp(source)
          .metadata()
          .catch((error: unknown) => {
            throw datasetError(source, `cannot read the image listed in ${annotations}`, error);
          });
        await copyFile(source, join(tmp, 'JPEGImages', `${id}.jpg`), constants.COPYFILE_FICLONE);
        await writeFile(
          join(tmp, 'Annotations', `${id}.xml`),
          vocAnnotationXml({
            filename: `${id}.jpg`,
            width,
            height,
            depth: channels,
            objects: boxes.map((box) => ({ box })),
          }),
        );
      }
      onProgress?.(++done, images.length);
    });
    await writeFile(join(tmp, 'ImageSets', 'Main', `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
    await replaceDir(tmp, outDir);
    const faces = written.reduce((n, { boxes }) => n + boxes.length, 0);
    const lines = images.reduce((n, { boxes }) => n + boxes.length / 4, 0);
    return {
      split,
      images: ids.length,
      faces,
      droppedFaces: lines - faces,
      droppedImages: images.length - ids.length,
    };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Upstream's keep rule on truncated integers (SPEC §6.2 steps 2–4, B21).
 * @param xywh [K, 4] x, y, w, h in pixels
 * @returns the kept faces as [x1, y1, x2, y2] = trunc of [x, y, x + w, y + h], in file order
 */
export function keptWiderBoxes(xywh: Float64Array, minSize = 10): number[][] {
  const kept: number[][] = [];
  for (let i = 0; i < xywh.length; i += 4) {
    const [x, y, w, h] = Array.from(xywh.subarray(i, i + 4), Math.trunc);
    if (w > 0 && h > 0 && w >= minSize && h >= minSize) kept.push([x, y, x + w, y + h]);
  }
  return kept;
}

/** `wider_face_train_bbx_gt.txt`, `retinaface_labels/train/label.txt` → trainval; the val ones → test. */
function defaultSplit(annotations: string): string {
  const name = `${basename(dirname(annotations))}/${basename(annotations)}`;
  if (/train/i.test(name)) return 'trainval';
  if (/val/i.test(name)) return 'test';
  throw new UltrafaceError(
    'E_INVALID_OPTION',
    `Expected a split for ${annotations} (cannot tell train from val by its name)`,
  );
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UltrafaceError('E_INVALID_OPTION', `outDir ${path} is not a readable folder`, { cause: error });
  }
}

/** Puts the finished `tmp` folder at `outDir`, moving an old outDir aside first and deleting it after. */
async function replaceDir(tmp: string, outDir: string): Promise<void> {
  const old = `${outDir}.old-${process.pid}`;
  let moved = false;
  try {
    await rename(outDir, old);
    moved = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(tmp, outDir);
  if (moved) await rm(old, { recursive: true, force: true });
}
