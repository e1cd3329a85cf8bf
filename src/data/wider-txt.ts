/**
 * The WIDER FACE split annotations `wider_face_{train,val}_bbx_gt.txt`. Per image:
 *
 *   0--Parade/0_Parade_marchingband_1_465.jpg       image path, relative to WIDER_<set>/images
 *   126                                             face count K
 *   345 211 4 4 2 0 0 0 2 0                          K lines: x y w h blur expression illumination invalid occlusion pose
 *
 * An image without faces has one all-zero face line, after a count of 1 (the files here) or 0 (older releases);
 * both read as zero faces. The `.mat` ground truth keeps that placeholder as a [0 0 0 0] box instead.
 * Blank lines are skipped. Boxes may have w or h ≤ 0 (a few official ones do); they are kept as written.
 */
import { datasetError, parseNumberLine, readDatasetText, splitLines } from './dataset-io.js';

export const WIDER_ATTRIBUTES = [
  'blur',
  'expression',
  'illumination',
  'invalid',
  'occlusion',
  'pose',
] as const;

export interface WiderTxtImage {
  /** As written in the file, e.g. `0--Parade/0_Parade_marchingband_1_465.jpg`. */
  readonly path: string;
  /** `0--Parade` */
  readonly event: string;
  /** `0_Parade_marchingband_1_465` (no `.jpg`) */
  readonly name: string;
  /** [K, 4] x, y, w, h in image pixels (fractional in widerface-mini). */
  readonly boxes: Float64Array;
  /** [K, 6] small integer labels, in WIDER_ATTRIBUTES order. */
  readonly attributes: Uint8Array;
}

/** `event/name.jpg` → event and name, as the evaluation keys images (SPEC §10.3). */
export function splitWiderPath(path: string): { event: string; name: string } {
  const slash = path.lastIndexOf('/');
  return { event: slash < 0 ? '' : path.slice(0, slash), name: path.slice(slash + 1).replace(/\.jpg$/i, '') };
}

export async function readWiderSplitTxt(path: string): Promise<WiderTxtImage[]> {
  return parseWiderSplitTxt(await readDatasetText(path), path);
}

/** @param source names the file in error messages */
export function parseWiderSplitTxt(text: string, source: string): WiderTxtImage[] {
  // Non-blank lines with their 1-based line numbers.
  const lines: [string, number][] = [];
  splitLines(text).forEach((line, i) => {
    if (line.trim() !== '') lines.push([line.trim(), i + 1]);
  });
  const fail = (at: number, message: string): never => {
    throw datasetError(source, message, undefined, at);
  };

  const images: WiderTxtImage[] = [];
  let i = 0;
  const faceLine = (): number[] => {
    const [line, at] = lines[i++];
    const values = parseNumberLine(line, source, at);
    if (values.length !== 10) fail(at, `expected 10 numbers (x y w h and 6 labels), found ${values.length}`);
    if (!values.slice(4).every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
      fail(at, 'labels must be integers 0..255');
    }
    return values;
  };
  const isPlaceholder = (values: readonly number[]): boolean => values.every((v) => v === 0);

  while (i < lines.length) {
    const [path, pathAt] = lines[i++];
    if (/\s/.test(path) || !/\.jpg$/i.test(path)) {
      fail(pathAt, `expected an image path, found ${JSON.stringify(path)}`);
    }
    if (i >= lines.length) fail(pathAt, 'image path without a face count');
    const [countText, countAt] = lines[i++];
    if (!/^\d+$/.test(countText)) fail(countAt, `expected a face count, found ${JSON.stringify(countText)}`);
    const count = Number(countText);
    if (count > lines.length - i) fail(countAt, `${count} faces announced, ${lines.length - i} lines left`);

    let faces: number[][] = [];
    for (let k = 0; k < count; k++) faces.push(faceLine());
    // The no-face placeholder: "1" + one zero line, or "0" + an (optional) zero line.
    if (count === 0 && i < lines.length && /^[\d\s]+$/.test(lines[i][0])) faces.push(faceLine());
    if (faces.length === 1 && isPlaceholder(faces[0])) faces = [];
    else if (count === 0 && faces.length > 0) fail(lines[i - 1][1], 'face line after a count of 0');

    const boxes = new Float64Array(faces.length * 4);
    const attributes = new Uint8Array(faces.length * 6);
    faces.forEach((values, k) => {
      boxes.set(values.slice(0, 4), k * 4);
      attributes.set(values.slice(4), k * 6);
    });
    images.push({ path, ...splitWiderPath(path), boxes, attributes });
  }
  return images;
}
