/**
 * WIDER FACE evaluation ground truth from the official `.mat` files (SPEC §10.2):
 *
 *   wider_face_val.mat          event_list {E×1} of char, file_list {E×1} of {N_e×1} of char,
 *                               face_bbx_list {E×1} of {N_e×1} of K×4 [x y w h] (int32; double in widerface-mini)
 *   wider_{easy,medium,hard}_val.mat   the same, plus gt_list {E×1} of {N_e×1} of 1-based box indices
 *                               (uint8/uint16 column vectors, possibly empty) of the faces that count.
 */
import { join } from 'node:path';

import { datasetError, readDatasetFile } from './dataset-io.js';
import { readMat, type MatNumeric, type MatValue } from './mat.js';
import { type WiderGroundTruth, type WiderImageGroundTruth, type WiderSetting } from './wider-types.js';

/** The parts of one ground-truth file we use: names and one per-image list, indexed [event][image]. */
interface WiderMatFile {
  readonly path: string;
  readonly events: readonly string[];
  readonly files: readonly (readonly string[])[];
  readonly list: readonly (readonly MatNumeric[])[];
}

/**
 * Reads `wider_face_val.mat` and `wider_{easy,medium,hard}_val.mat` from `dir` (the official
 * `eval_tools/ground_truth` folder). Boxes come from `wider_face_val.mat`; the setting files must list the same
 * events and images.
 */
export async function readWiderGroundTruth(dir: string): Promise<WiderGroundTruth> {
  const face = await readWiderMat(join(dir, 'wider_face_val.mat'), 'face_bbx_list');
  const setting = async (name: WiderSetting): Promise<WiderMatFile> => {
    const file = await readWiderMat(join(dir, `wider_${name}_val.mat`), 'gt_list');
    sameImages(face, file);
    return file;
  };
  const settings = {
    easy: await setting('easy'),
    medium: await setting('medium'),
    hard: await setting('hard'),
  };

  const images: WiderImageGroundTruth[] = [];
  face.events.forEach((event, e) => {
    face.files[e].forEach((name, i) => {
      const where = `{${e + 1}}{${i + 1}}`; // MATLAB's 1-based cell indices, as a reader would type them
      const boxes = boxRows(face.path, face.list[e][i], `face_bbx_list${where}`);
      const keepOf = (setting: WiderSetting): Uint32Array => {
        const file = settings[setting];
        return keepIndices(file.path, file.list[e][i], boxes.length / 4, `gt_list${where}`);
      };
      images.push({
        event,
        name,
        boxes,
        keep: { easy: keepOf('easy'), medium: keepOf('medium'), hard: keepOf('hard') },
      });
    });
  });
  return { images };
}

async function readWiderMat(path: string, listName: string): Promise<WiderMatFile> {
  const mat = readMat(await readDatasetFile(path), { source: path });
  const events = cellOf(path, mat.get('event_list'), 'event_list').map((v, e) =>
    text(path, v, `event_list{${e + 1}}`),
  );
  const fileCells = cellOf(path, mat.get('file_list'), 'file_list');
  if (fileCells.length !== events.length) {
    throw datasetError(path, `file_list has ${fileCells.length} events, event_list ${events.length}`);
  }
  const files = fileCells.map((cell, e) =>
    cellOf(path, cell, `file_list{${e + 1}}`).map((v, i) => text(path, v, `file_list{${e + 1}}{${i + 1}}`)),
  );
  const perEvent = cellOf(path, mat.get(listName), listName);
  if (perEvent.length !== events.length) {
    throw datasetError(path, `${listName} has ${perEvent.length} events, event_list ${events.length}`);
  }
  const list = perEvent.map((cell, e) => {
    const perImage = cellOf(path, cell, `${listName}{${e + 1}}`);
    if (perImage.length !== files[e].length) {
      throw datasetError(
        path,
        `${listName}{${e + 1}} has ${perImage.length} images, file_list ${files[e].length}`,
      );
    }
    return perImage.map((v, i) => numericOf(path, v, `${listName}{${e + 1}}{${i + 1}}`));
  });
  return { path, events, files, list };
}

function sameImages(a: WiderMatFile, b: WiderMatFile): void {
  const key = (f: WiderMatFile): string => JSON.stringify([f.events, f.files]);
  if (key(a) !== key(b)) throw datasetError(b.path, `events or file names differ from ${a.path}`);
}

/** K×4 column-major [x y w h] → [K, 4] row-major Float64Array, in pixels. */
function boxRows(path: string, { data, dims }: MatNumeric, what: string): Float64Array {
  if (data.length === 0) return new Float64Array(0);
  if (dims.length !== 2 || dims[1] !== 4) {
    throw datasetError(path, `${what}: expected K×4 boxes, found ${dims.join('×')}`);
  }
  const k = dims[0];
  const rows = new Float64Array(k * 4);
  for (let i = 0; i < k; i++) for (let c = 0; c < 4; c++) rows[i * 4 + c] = data[c * k + i];
  return rows;
}

/** 1-based MATLAB indices → 0-based indices into the image's boxes. */
function keepIndices(path: string, { data }: MatNumeric, boxCount: number, what: string): Uint32Array {
  const keep = new Uint32Array(data.length);
  data.forEach((index, j) => {
    if (!Number.isInteger(index) || index < 1 || index > boxCount) {
      throw datasetError(path, `${what}: index ${index} is not a box number 1..${boxCount}`);
    }
    keep[j] = index - 1;
  });
  return keep;
}

function describeValue(value: MatValue | undefined): string {
  if (value === undefined) return 'nothing';
  return `${value.kind === 'numeric' ? value.class : value.kind} ${value.dims.join('×')}`;
}

function cellOf(path: string, value: MatValue | undefined, what: string): readonly MatValue[] {
  if (value?.kind !== 'cell') {
    throw datasetError(path, `${what}: expected a cell array, found ${describeValue(value)}`);
  }
  return value.cells;
}

function numericOf(path: string, value: MatValue, what: string): MatNumeric {
  if (value.kind !== 'numeric') {
    throw datasetError(path, `${what}: expected a numeric array, found ${describeValue(value)}`);
  }
  return value;
}

function text(path: string, value: MatValue, what: string): string {
  if (value.kind !== 'char' || value.dims.filter((d) => d !== 1).length > 1) {
    throw datasetError(path, `${what}: expected a string, found ${describeValue(value)}`);
  }
  return value.text;
}
