import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { UltrafaceError } from '../core/errors.js';
import { describe as describeValue } from '../core/validate.js';
import { widerImageKey } from './wider-protocol.js';

/**
 * WIDER FACE prediction files (SPEC §10.1): `<dir>/<event>/<name>.txt` holding
 *
 *     <name>
 *     <K>
 *     floor(x1) floor(y1) ceil(x2 − x1) ceil(y2 − y1) score      (K lines, '%d %d %d %d %.03f', score ≤ 1)
 */

/** Detections of one WIDER image, as a detector returns them. */
export interface WiderImageDetections {
  /** Event folder, e.g. `0--Parade`. */
  readonly event: string;
  /** Image name without `.jpg`, e.g. `0_Parade_marchingband_1_20`. */
  readonly name: string;
  /**
   * [K, 4] x1, y1, x2, y2 in image pixels, not rounded or clipped. A Float32Array gets its widths computed in
   * float32, as upstream's torch tensors do (`ceil(bbox[2] − bbox[0])`); anything else in float64.
   */
  readonly boxes: ArrayLike<number>;
  /** [K] face scores, any order (written by descending score). */
  readonly scores: ArrayLike<number>;
}

function invalidInput(message: string): UltrafaceError {
  return new UltrafaceError('E_INVALID_INPUT', message);
}

/**
 * Python's `'%.03f' % x`: the correctly rounded decimal of the double, **ties to even**. `toFixed` also rounds
 * the exact double but sends ties up; an exact tie at the 4th decimal happens only for x = m/16 with m odd
 * (0.0625, 0.5625, …, representable float32 scores), where Python writes 0.062 and toFixed 0.063.
 */
export function formatScore(x: number): string {
  const magnitude = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (Number.isInteger(magnitude * 16) && (magnitude * 16) % 2 === 1) {
    const low = Math.floor(magnitude * 1000); // exact: magnitude·1000 = 62.5·m
    const n = low % 2 === 0 ? low : low + 1;
    return `${sign}${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
  }
  return `${sign}${magnitude.toFixed(3)}`;
}

function checkDetections(image: WiderImageDetections): void {
  for (const [label, value] of [
    ['event', image.event],
    ['name', image.name],
  ] as const) {
    if (value === '' || value === '.' || value === '..' || /[/\\\n\r\0]/.test(value)) {
      throw invalidInput(
        `Expected a plain file name (no path separator or line break) for ${label} but received ${describeValue(value)}`,
      );
    }
  }
  const k = image.scores.length;
  if (image.boxes.length !== 4 * k) {
    throw invalidInput(
      `Expected boxes of length 4·${k} (one box per score) for ${image.event}/${image.name} but received length ${image.boxes.length}`,
    );
  }
  for (const values of [image.boxes, image.scores]) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw invalidInput(
          `Expected finite boxes and scores for ${image.event}/${image.name} but received ${values[i]}`,
        );
      }
    }
  }
}

/**
 * The text of one prediction file (SPEC §10.1). Boxes are written by descending score (ties keep input order),
 * which the protocol needs: the official evaluation takes them in file order. Coordinates may be negative.
 */
export function formatPredictionFile(image: WiderImageDetections): string {
  checkDetections(image);
  const { boxes, scores } = image;
  const sub =
    boxes instanceof Float32Array
      ? (a: number, b: number) => Math.fround(a - b)
      : (a: number, b: number) => a - b;
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const lines = [image.name, String(scores.length)];
  for (const i of order) {
    const [x1, y1, x2, y2] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
    const score = scores[i] <= 1 ? scores[i] : 1;
    // String(−0) is "0", like Python's int(math.ceil(−0.5))
    const fields = [Math.floor(x1), Math.floor(y1), Math.ceil(sub(x2, x1)), Math.ceil(sub(y2, y1))];
    lines.push(`${fields.join(' ')} ${formatScore(score)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `path` atomically: a temporary file in the same folder, then a rename over the target. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes one image's prediction file to `<dir>/<event>/<name>.txt` (atomically; folders created as needed).
 * @returns the file's path
 */
export async function writePredictionFile(dir: string, image: WiderImageDetections): Promise<string> {
  const text = formatPredictionFile(image);
  const folder = join(dir, image.event);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${image.name}.txt`);
  await writeAtomic(path, text);
  return path;
}

/**
 * Writes the prediction files of many images, one after another (each atomic).
 * @returns the number of files written
 */
export async function writePredictionFiles(
  dir: string,
  images: Iterable<WiderImageDetections> | AsyncIterable<WiderImageDetections>,
): Promise<number> {
  let count = 0;
  for await (const image of images) {
    await writePredictionFile(dir, image);
    count++;
  }
  return count;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses one prediction file. Line 1 (the image name) must be present but is not used: the caller keys the
 * image by its file stem. Line 2 must be the box count and match the box lines that follow. Box lines are the
 * first 5 whitespace-separated decimal numbers x, y, w, h, score (more fields are ignored); trailing spaces,
 * `\r\n` and empty lines are accepted. Anything else → E_DATASET naming `source:line`.
 * @param source file path (or any label) for messages
 * @returns [K, 5] x, y, w, h, score in file order
 */
export function parsePredictionFile(text: string, source: string): Float64Array {
  const lines = text.split(/\r\n|\r|\n/);
  const fail = (line: number, expected: string, received: string): never => {
    throw new UltrafaceError('E_DATASET', `${source}:${line}: Expected ${expected} but received ${received}`);
  };
  if ((lines[0] ?? '').trim() === '') fail(1, 'the image name', 'an empty line');
  const countText = (lines[1] ?? '').trim();
  if (!/^\d+$/.test(countText)) fail(2, 'the number of boxes', describeValue(countText));
  const count = Number(countText);
  const values: number[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length < 5) fail(i + 1, '5 fields "x y w h score"', describeValue(line));
    for (const field of fields.slice(0, 5)) {
      const value = Number(field);
      if (!DECIMAL.test(field) || !Number.isFinite(value))
        fail(i + 1, 'a decimal number', describeValue(field));
      values.push(value);
    }
  }
  if (values.length !== count * 5) fail(2, `a count equal to the ${values.length / 5} box lines`, countText);
  return Float64Array.from(values);
}

/**
 * Reads a prediction folder written in the official layout: every `<event>/<stem>.txt` becomes the entry
 * `event/stem` (see `widerImageKey`), other files and nested folders are skipped. Folders and files are read in
 * sorted order. The official reader keys images by line 1 passed through `rstrip('.jpg')`, a character-set
 * strip that would turn a name ending in `g`, `p`, `j` or `.` into a different key (SPEC §12 B15); WIDER
 * names end in digits, so the two agree on real data, and we use the file stem.
 * @returns `event/name` → [K, 5] x, y, w, h, score (file order)
 */
export async function readPredictionDir(dir: string): Promise<Map<string, Float64Array>> {
  const list = async (path: string) => {
    try {
      return await readdir(path, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UltrafaceError(
        code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_DATASET',
        `Expected a readable prediction folder at ${path} but received ${code ?? 'an error'}`,
        { cause: error },
      );
    }
  };
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  const predictions = new Map<string, Float64Array>();
  for (const event of (await list(dir)).filter((e) => e.isDirectory()).sort(byName)) {
    const files = (await list(join(dir, event.name))).filter((f) => f.isFile() && f.name.endsWith('.txt'));
    for (const file of files.sort(byName)) {
      const path = join(dir, event.name, file.name);
      const text = await readFile(path, 'utf8');
      predictions.set(widerImageKey(event.name, file.name.slice(0, -4)), parsePredictionFile(text, path));
    }
  }
  return predictions;
}
