/**
 * RetinaFace's cleaned WIDER labels, `retinaface_labels/<set>/label.txt`, the input of upstream's converter
 * (SPEC §6.2):
 *
 *   # 0--Parade/0_Parade_marchingband_1_465.jpg     starts an image (tokens after the path are ignored)
 *   345 211 4 4                                     one face per line: x y w h (val, test)
 *   449 330 122 149 488.9 373.6 0.0 … 0.82          or 20 numbers (train): x y w h, five landmarks (x y flag),
 *                                                   and a last value upstream calls blur; x = −1: no landmarks
 *
 * Every line of a file has the same number of columns. Blank lines are skipped (upstream stops at the first
 * one, B20).
 */
import { datasetError, parseNumberLine, readDatasetText, splitLines } from './dataset-io.js';
import { splitWiderPath } from './wider-txt.js';

export interface RetinafaceImage {
  /** As written after `# `, e.g. `0--Parade/0_Parade_marchingband_1_465.jpg`. */
  readonly path: string;
  readonly event: string;
  /** File name without `.jpg`. */
  readonly name: string;
  /** [K, 4] x, y, w, h in image pixels. */
  readonly boxes: Float64Array;
  /** [K, 15] five landmarks as (x, y, flag) in file order; x = −1 when a face has none. Null in 4-column files. */
  readonly landmarks: Float64Array | null;
  /** [K] the 20th column (upstream: `blur`). Null in 4-column files. */
  readonly blur: Float64Array | null;
}

export async function readRetinafaceLabels(path: string): Promise<RetinafaceImage[]> {
  return parseRetinafaceLabels(await readDatasetText(path), path);
}

/** @param source names the file in error messages */
export function parseRetinafaceLabels(text: string, source: string): RetinafaceImage[] {
  const records: { path: string; faces: number[][] }[] = [];
  let columns = 0; // 4 or 20, fixed by the first face line
  splitLines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const path = line.slice(1).trim().split(/\s+/)[0];
      if (!/\.jpg$/i.test(path)) {
        throw datasetError(source, 'expected "# <image path>.jpg"', undefined, i + 1);
      }
      records.push({ path, faces: [] });
      return;
    }
    const record = records.at(-1);
    if (!record) {
      throw datasetError(source, 'face line before the first "# <image path>" line', undefined, i + 1);
    }
    const values = parseNumberLine(line, source, i + 1);
    if (columns === 0) columns = values.length;
    if (values.length !== columns || (columns !== 4 && columns !== 20)) {
      const expected = columns === 20 ? '20' : '4 (or 20 in every line)';
      throw datasetError(source, `expected ${expected} numbers, found ${values.length}`, undefined, i + 1);
    }
    record.faces.push(values);
  });

  return records.map(({ path, faces }) => {
    const rows = (width: number, from: number): Float64Array => {
      const out = new Float64Array(faces.length * width);
      faces.forEach((values, k) => {
        out.set(values.slice(from, from + width), k * width);
      });
      return out;
    };
    const full = columns === 20;
    return {
      path,
      ...splitWiderPath(path),
      boxes: rows(4, 0),
      landmarks: full ? rows(15, 4) : null,
      blur: full ? rows(1, 19) : null,
    };
  });
}
