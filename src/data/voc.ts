/**
 * Pascal-VOC dataset folders, as upstream's `VOCDataset` reads them (SPEC §6.1):
 *
 *   <root>/ImageSets/Main/<split>.txt    image ids, one per line (upstream: trainval = training, test = validation)
 *   <root>/Annotations/<id>.xml          size/{width,height}, then per object name, difficult, bndbox/{xmin,ymin,xmax,ymax}
 *   <root>/JPEGImages/<id>.jpg
 *   <root>/labels.txt (optional)         class names, comma separated; without it the one class is `face`
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

import { XMLParser } from 'fast-xml-parser';

import { knownKeys } from '../core/validate.js';
import { datasetError, mapConcurrent, readDatasetText, splitLines, splitName } from './dataset-io.js';

export interface VocImage {
  readonly id: string;
  /** `<root>/JPEGImages/<id>.jpg` (checked to exist). */
  readonly imagePath: string;
  /** Image size in pixels, from the XML `size` element. */
  readonly width: number;
  readonly height: number;
  /** [N, 4] x1, y1, x2, y2 in image pixels: the XML values minus 1 (SPEC §6.1). */
  readonly boxes: Float64Array;
  /** [N] index into `VocDataset.classes` (0 is BACKGROUND, so faces are 1). */
  readonly labels: Uint8Array;
  /** [N] 1 for objects marked difficult (all 0 unless `keepDifficult`). */
  readonly difficult: Uint8Array;
}

export interface VocDataset {
  readonly root: string;
  readonly split: string;
  /** `BACKGROUND` first, then the classes from `labels.txt` (or `face`), as upstream numbers them. */
  readonly classes: readonly string[];
  /** In `ImageSets/Main/<split>.txt` order; images without (kept) objects are included. */
  readonly images: readonly VocImage[];
}

export interface VocReadOptions {
  /** Name of the id list in `ImageSets/Main/`. Default `trainval`. */
  readonly split?: string;
  /** Keep objects marked difficult (upstream drops them by default). Default false. */
  readonly keepDifficult?: boolean;
  /** Called after each image with (images read, images listed). */
  readonly onProgress?: (done: number, total: number) => void;
}

export async function readVocDataset(root: string, options: VocReadOptions = {}): Promise<VocDataset> {
  knownKeys('readVocDataset options', options, ['split', 'keepDifficult', 'onProgress']);
  const split = splitName(options.split ?? 'trainval');
  const classes = ['BACKGROUND', ...(await readClassNames(root))];
  const listPath = join(root, 'ImageSets', 'Main', `${split}.txt`);
  const ids = splitLines(await readDatasetText(listPath))
    .map((line) => line.trim())
    .filter((id) => id !== '');

  let done = 0;
  const images = await mapConcurrent(ids, 16, async (id): Promise<VocImage> => {
    const xmlPath = join(root, 'Annotations', `${id}.xml`);
    const annotation = parseVocAnnotation(await readDatasetText(xmlPath), xmlPath, classes);
    const imagePath = join(root, 'JPEGImages', `${id}.jpg`);
    try {
      await access(imagePath);
    } catch (error) {
      throw datasetError(imagePath, `image listed in ${listPath} is missing`, error);
    }
    const keep = annotation.objects.filter((o) => options.keepDifficult === true || !o.difficult);
    options.onProgress?.(++done, ids.length);
    return {
      id,
      imagePath,
      width: annotation.width,
      height: annotation.height,
      boxes: Float64Array.from(keep.flatMap((o) => o.box)),
      labels: Uint8Array.from(keep, (o) => o.label),
      difficult: Uint8Array.from(keep, (o) => (o.difficult ? 1 : 0)),
    };
  });
  return { root, split, classes, images };
}

/** `labels.txt` as upstream reads it: all lines joined, spaces removed, split on commas. */
async function readClassNames(root: string): Promise<string[]> {
  const path = join(root, 'labels.txt');
  try {
    await access(path);
  } catch {
    return ['face'];
  }
  const names = splitLines(await readDatasetText(path))
    .join('')
    .replace(/\s/g, '')
    .split(',');
  if (names.some((name) => name === '')) throw datasetError(path, 'empty class name');
  return names.map((name) => name.toLowerCase());
}

export interface VocAnnotation {
  readonly width: number;
  readonly height: number;
  /** Objects of known classes, in file order; `box` is x1, y1, x2, y2 in 0-based pixels. */
  readonly objects: readonly { box: number[]; label: number; difficult: boolean }[];
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

/**
 * One `Annotations/<id>.xml`. Objects whose lower-cased name is not in `classes` are skipped, as upstream does.
 * @param classes class names with BACKGROUND at index 0
 */
export function parseVocAnnotation(xml: string, source: string, classes: readonly string[]): VocAnnotation {
  checkTags(xml, source);
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    throw datasetError(source, `invalid XML: ${(error as Error).message}`, error);
  }
  const root = child(document, 'annotation');
  if (!isRecord(root)) throw datasetError(source, 'no <annotation> element');

  const number = (node: unknown, path: string): number => {
    const text = child(node, path);
    const value = typeof text === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(value)) {
      throw datasetError(source, `<${path}> is ${JSON.stringify(text ?? null)}, not a number`);
    }
    return value;
  };
  const size = child(root, 'size');
  const width = number(size, 'width');
  const height = number(size, 'height');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw datasetError(source, `bad image size ${width}x${height}`);
  }

  const objects: { box: number[]; label: number; difficult: boolean }[] = [];
  for (const object of [child(root, 'object') ?? []].flat()) {
    const name = child(object, 'name');
    const label = classes.indexOf(typeof name === 'string' ? name.trim().toLowerCase() : '');
    if (label < 1) continue;
    const flag = child(object, 'difficult');
    const difficult = flag === undefined || flag === '' ? 0 : number(object, 'difficult');
    const bndbox = child(object, 'bndbox');
    // VOC coordinates are 1-based: upstream subtracts 1 from all four (SPEC §6.1, B3). We keep that, and the
    // WIDER converter writes coordinates + 1 so that this gives back the original boxes exactly.
    const box = ['xmin', 'ymin', 'xmax', 'ymax'].map((key) => number(bndbox, key) - 1);
    if (!(box[0] < box[2] && box[1] < box[3])) {
      throw datasetError(
        source,
        `object ${objects.length + 1}: empty box xmin..xmax ${box[0] + 1}..${box[2] + 1}, ymin..ymax ${box[1] + 1}..${box[3] + 1}`,
      );
    }
    objects.push({ box, label, difficult: difficult !== 0 });
  }
  return { width, height, objects };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The child element named `key` (a string for text, an object for elements, an array when repeated). */
function child(node: unknown, key: string): unknown {
  return isRecord(node) && Object.hasOwn(node, key) ? node[key] : undefined;
}

/**
 * The well-formedness fast-xml-parser leaves unchecked (it accepts truncated documents): every start tag is
 * closed, in order. Comments, CDATA, `<?…?>` and `<!…>` are skipped.
 */
function checkTags(xml: string, source: string): void {
  const tags = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<[?!][^>]*>|<(\/?)([^\s/>]+)[^>]*?(\/?)>/g;
  const open: string[] = [];
  for (const match of xml.matchAll(tags)) {
    const [, closing, name, selfClosing] = match as (string | undefined)[]; // no groups for comments etc.
    if (name === undefined || selfClosing === '/') continue;
    if (closing === '') open.push(name);
    else if (open.pop() !== name) {
      const line = xml.slice(0, match.index).split('\n').length;
      throw datasetError(source, `invalid XML: unexpected </${name}>`, undefined, line);
    }
  }
  if (open.length > 0) throw datasetError(source, `invalid XML: <${open.join('> <')}> not closed`);
}
