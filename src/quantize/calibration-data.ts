/**
 * Calibration images: a folder of images (searched recursively), a Pascal-VOC root (its `ImageSets/Main/<split>`
 * list), a VOC split file, or images given directly. Every problem with the source is an E_DATASET error naming
 * the file.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

import { UltrafaceError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { datasetError, readDatasetText, splitLines, splitName } from '../data/dataset-io.js';
import { IMAGE_FILE_EXTENSIONS } from '../runtime/node/image.js';

/** An image as the detector takes it: a path, encoded bytes, or raw pixels. */
export type CalibrationImage = string | Uint8Array | RgbImage;

/** A folder, a VOC root or split file, or the images themselves. */
export type CalibrationSource = string | readonly CalibrationImage[];

export interface CalibrationSelection {
  /** The chosen images, spread evenly over the source's order. */
  readonly images: readonly CalibrationImage[];
  /** How many images the source holds. */
  readonly available: number;
  /** Where they came from, for reports ("VOC faces-voc trainval", "folder imgs", "12 images"). */
  readonly description: string;
}

/**
 * `count` items spread evenly over `items` (item ⌊(k + ½) · n / count⌋ for k < count), in order: deterministic,
 * and it samples every part of a list that is grouped by source. All items when `count ≥ n`.
 */
export function spreadEvenly<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, k) => items[Math.floor(((k + 0.5) * items.length) / count)]);
}

async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** Ids of a VOC split list → `JPEGImages/<id>.jpg` paths (existence is checked when the chosen images load). */
async function vocImages(root: string, listPath: string): Promise<string[]> {
  const ids = splitLines(await readDatasetText(listPath))
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((id) => id !== '');
  for (const [i, id] of ids.entries()) {
    if (!/^[\w.-]+$/.test(id) || id === '.' || id === '..') {
      throw datasetError(listPath, `expected an image id but found ${JSON.stringify(id)}`, undefined, i + 1);
    }
  }
  if (ids.length === 0) throw datasetError(listPath, 'the split lists no images');
  return ids.map((id) => join(root, 'JPEGImages', `${id}.jpg`));
}

/**
 * Resolves a calibration source to at most `count` images.
 * @throws UltrafaceError E_DATASET when the source is missing, empty or not a folder/VOC layout
 */
export async function selectCalibrationImages(
  source: CalibrationSource,
  options: { readonly count: number; readonly split?: string },
): Promise<CalibrationSelection> {
  if (typeof source !== 'string') {
    if (source.length === 0) {
      throw new UltrafaceError('E_DATASET', 'Expected calibration images but received an empty list');
    }
    return {
      images: spreadEvenly(source, options.count),
      available: source.length,
      description: `${source.length} given images`,
    };
  }
  const info = await statOrNull(source);
  if (!info) {
    throw new UltrafaceError(
      'E_DATASET',
      `Expected a folder of images, a Pascal-VOC root or a VOC split file for calibration, ` +
        `but ${source} does not exist`,
    );
  }
  let all: string[];
  let description: string;
  if (info.isFile()) {
    // <root>/ImageSets/Main/<split>.txt
    const main = dirname(source);
    if (extname(source) !== '.txt' || basename(main) !== 'Main' || basename(dirname(main)) !== 'ImageSets') {
      throw datasetError(
        source,
        'expected a folder of images, a Pascal-VOC root or a VOC split file (ImageSets/Main/<split>.txt)',
      );
    }
    const root = dirname(dirname(main));
    all = await vocImages(root, source);
    description = `VOC ${root} ${basename(source, '.txt')}`;
  } else if (await statOrNull(join(source, 'ImageSets', 'Main'))) {
    const split = splitName(options.split ?? 'trainval');
    all = await vocImages(source, join(source, 'ImageSets', 'Main', `${split}.txt`));
    description = `VOC ${source} ${split}`;
  } else {
    if (options.split !== undefined) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected a Pascal-VOC root (with ImageSets/Main) for split ${options.split}, ` +
          `but ${source} is a plain folder`,
      );
    }
    let entries;
    try {
      entries = await readdir(source, { recursive: true, withFileTypes: true });
    } catch (cause) {
      throw datasetError(source, 'cannot list the folder', cause);
    }
    all = entries
      .filter((e) => e.isFile() && IMAGE_FILE_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => join(e.parentPath, e.name))
      .sort();
    if (all.length === 0) {
      throw datasetError(
        source,
        `no images (${[...IMAGE_FILE_EXTENSIONS].join(', ')}) in this folder or below it`,
      );
    }
    description = `folder ${source}`;
  }
  return { images: spreadEvenly(all, options.count), available: all.length, description };
}
