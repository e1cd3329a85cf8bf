/**
 * A tiny MAT v5 writer for tests: builds the byte layouts src/data/mat.ts reads (matfile_format.pdf ch. 1),
 * including the odd corners (small elements, big-endian, compression) MATLAB and scipy produce.
 */
import { deflateSync } from 'node:zlib';

export const MI = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9,
  INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18,
} as const; // prettier-ignore

export const MX = {
  CELL: 1, STRUCT: 2, OBJECT: 3, CHAR: 4, SPARSE: 5, DOUBLE: 6, SINGLE: 7, INT8: 8, UINT8: 9,
  INT16: 10, UINT16: 11, INT32: 12, UINT32: 13, INT64: 14, UINT64: 15,
} as const; // prettier-ignore

const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

export class MatWriter {
  constructor(readonly le = true) {}

  /** A whole file: 128-byte header + top-level elements. */
  file(elements: readonly Uint8Array[], version = 0x0100): Uint8Array {
    const header = new Uint8Array(128).fill(0x20);
    header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by mat-writer.ts'));
    const view = new DataView(header.buffer);
    view.setUint16(124, version, this.le);
    header.set(this.le ? [0x49, 0x4d] : [0x4d, 0x49], 126); // "IM" read in the file's byte order
    return concat([header, ...elements]);
  }

  /** One element; `small` uses the 8-byte form (data ≤ 4 bytes). Data padded to 8 bytes. */
  element(type: number, data: Uint8Array, small = false): Uint8Array {
    const tag = new DataView(new ArrayBuffer(8));
    if (small) {
      tag.setUint32(0, (data.length << 16) | type, this.le);
      const out = new Uint8Array(8);
      out.set(new Uint8Array(tag.buffer));
      out.set(data, 4);
      return out;
    }
    tag.setUint32(0, type, this.le);
    tag.setUint32(4, data.length, this.le);
    return concat([new Uint8Array(tag.buffer), data, new Uint8Array((8 - (data.length % 8)) % 8)]);
  }

  /** Numbers encoded as data type `type`. */
  numbers(type: number, values: readonly number[]): Uint8Array {
    const size = SIZES[type];
    const view = new DataView(new ArrayBuffer(values.length * size));
    values.forEach((v, i) => {
      const at = i * size;
      if (type === MI.INT8) view.setInt8(at, v);
      else if (type === MI.UINT8) view.setUint8(at, v);
      else if (type === MI.INT16) view.setInt16(at, v, this.le);
      else if (type === MI.UINT16) view.setUint16(at, v, this.le);
      else if (type === MI.INT32) view.setInt32(at, v, this.le);
      else if (type === MI.UINT32) view.setUint32(at, v, this.le);
      else if (type === MI.SINGLE) view.setFloat32(at, v, this.le);
      else if (type === MI.DOUBLE) view.setFloat64(at, v, this.le);
      else if (type === MI.INT64) view.setBigInt64(at, BigInt(v), this.le);
      else view.setBigUint64(at, BigInt(v), this.le);
    });
    return new Uint8Array(view.buffer);
  }

  /** An miMATRIX element: flags, dims, name, then `body` (already-encoded elements). */
  matrix(
    cls: number,
    dims: readonly number[],
    name: string,
    body: readonly Uint8Array[],
    flags = 0,
  ): Uint8Array {
    const nameBytes = new TextEncoder().encode(name);
    return this.element(
      MI.MATRIX,
      concat([
        this.element(MI.UINT32, this.numbers(MI.UINT32, [cls | flags, 0])),
        this.element(MI.INT32, this.numbers(MI.INT32, dims)),
        this.element(MI.INT8, nameBytes, nameBytes.length <= 4),
        ...body,
      ]),
    );
  }

  numeric(
    name: string,
    dims: readonly number[],
    values: readonly number[],
    cls: number = MX.DOUBLE,
    type: number = MI.DOUBLE,
  ): Uint8Array {
    const data = this.numbers(type, values);
    return this.matrix(cls, dims, name, [this.element(type, data, data.length <= 4)]);
  }

  /** A 1×N char array (N = UTF-16 length), data as miUTF16 code units by default. */
  char(name: string, text: string, type: number = MI.UTF16): Uint8Array {
    let data: Uint8Array;
    if (type === MI.UTF8) data = new TextEncoder().encode(text);
    else if (type === MI.UINT8 || type === MI.INT8) data = Uint8Array.from(text, (c) => c.charCodeAt(0));
    else
      data = this.numbers(
        MI.UINT16,
        Array.from({ length: text.length }, (_, i) => text.charCodeAt(i)),
      );
    return this.matrix(MX.CHAR, [1, text.length], name, [this.element(type, data)]);
  }

  cell(name: string, dims: readonly number[], cells: readonly Uint8Array[]): Uint8Array {
    return this.matrix(MX.CELL, dims, name, cells);
  }

  struct(
    name: string,
    dims: readonly number[],
    fields: readonly string[],
    values: readonly Uint8Array[],
  ): Uint8Array {
    const width = Math.max(...fields.map((f) => f.length)) + 1;
    const names = new Uint8Array(width * fields.length);
    fields.forEach((f, i) => {
      names.set(new TextEncoder().encode(f), i * width);
    });
    return this.matrix(MX.STRUCT, dims, name, [
      this.element(MI.INT32, this.numbers(MI.INT32, [width]), true),
      this.element(MI.INT8, names),
      ...values,
    ]);
  }

  /** miCOMPRESSED holding one element (top level only, unpadded as MATLAB writes it). */
  compressed(element: Uint8Array): Uint8Array {
    const data = deflateSync(element);
    const tag = new DataView(new ArrayBuffer(8));
    tag.setUint32(0, MI.COMPRESSED, this.le);
    tag.setUint32(4, data.length, this.le);
    return concat([new Uint8Array(tag.buffer), data]);
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface SyntheticEvent {
  readonly name: string;
  /** boxes: K rows of [x, y, w, h]; keep: 1-based indices, the same for every setting. */
  readonly images: readonly { name: string; boxes: number[][]; keep: number[] }[];
}

/**
 * The four WIDER ground-truth files (SPEC §10.2) for `events`, compressed like the official ones;
 * `override` replaces a named variable (to test wrong types).
 */
export function widerMatFiles(
  events: readonly SyntheticEvent[],
  override: Record<string, Uint8Array> = {},
): Record<string, Uint8Array> {
  const w = new MatWriter();
  type Image = SyntheticEvent['images'][number];
  /** A {E×1} cell of {N_e×1} cells, one value per image. */
  const perImage = (name: string, value: (image: Image) => Uint8Array): Uint8Array => {
    const cells = events.map((e) => w.cell('', [e.images.length, 1], e.images.map(value)));
    return w.cell(name, [events.length, 1], cells);
  };
  const boxes = ({ boxes: rows }: Image): Uint8Array => {
    const columnMajor = [0, 1, 2, 3].flatMap((c) => rows.map((row) => row[c]));
    return w.numeric('', [rows.length, rows.length === 0 ? 0 : 4], columnMajor, MX.INT32, MI.INT32);
  };
  const variables = (withGt: boolean): Uint8Array[] => {
    const list = [
      w.cell(
        'event_list',
        [events.length, 1],
        events.map((e) => w.char('', e.name)),
      ),
      perImage('file_list', (image) => w.char('', image.name)),
      perImage('face_bbx_list', boxes),
      ...(withGt
        ? [perImage('gt_list', (i) => w.numeric('', [i.keep.length, 1], i.keep, MX.UINT8, MI.UINT8))]
        : []),
    ];
    const names = ['event_list', 'file_list', 'face_bbx_list', 'gt_list'];
    return list.map((value, i) => w.compressed(override[names[i]] ?? value));
  };
  return {
    'wider_face_val.mat': w.file(variables(false)),
    'wider_easy_val.mat': w.file(variables(true)),
    'wider_medium_val.mat': w.file(variables(true)),
    'wider_hard_val.mat': w.file(variables(true)),
  };
}
