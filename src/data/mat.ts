/**
 * A small reader for MATLAB MAT-files, version 5 (the format of the WIDER FACE ground truth, SPEC §10.2).
 * Layout as in MathWorks' "MAT-File Format" (matfile_format.pdf), chapter 1:
 *
 *   file    = 128-byte header (116 text, 8 subsystem offset, u16 version 0x0100, 2-byte endian mark "IM")
 *             then top-level data elements, each miMATRIX or miCOMPRESSED (zlib of one miMATRIX element)
 *   element = 8-byte tag (u32 type, u32 byte count) + data padded to 8 bytes, or the "small element" form:
 *             one u32 holding byte count << 16 | type, then up to 4 data bytes (8 bytes in all)
 *   miMATRIX = array flags (miUINT32 ×2: class in the low byte, complex 0x800, logical 0x200),
 *             dims (miINT32 ×n), name (miINT8), then per class: numeric data | char data |
 *             one miMATRIX per cell | field-name length, field names, one miMATRIX per element and field.
 *
 * Arrays are column-major, as MATLAB stores them. Every length is checked against the bytes that are there,
 * nesting depth and inflated bytes are capped, so truncated or random input ends in an E_DATASET error.
 */
import { inflateSync } from 'node:zlib';

import { datasetError } from './dataset-io.js';

export type MatNumericClass =
  'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

interface MatArray {
  /** Variable name (empty inside cells and structs). */
  readonly name: string;
  /** MATLAB dimensions, at least two (a 1×N row vector is [1, N]). */
  readonly dims: readonly number[];
}

export interface MatNumeric extends MatArray {
  readonly kind: 'numeric';
  readonly class: MatNumericClass;
  /** MATLAB `logical` (stored as uint8). */
  readonly logical: boolean;
  /** prod(dims) values, column-major, converted to float64 (64-bit integers must be exact in a double). */
  readonly data: Float64Array;
}

export interface MatChar extends MatArray {
  readonly kind: 'char';
  /** prod(dims) characters, column-major; for a 1×N row vector simply the string. */
  readonly text: string;
}

export interface MatCell extends MatArray {
  readonly kind: 'cell';
  /** prod(dims) values, column-major. */
  readonly cells: readonly MatValue[];
}

export interface MatStruct extends MatArray {
  readonly kind: 'struct';
  readonly fields: readonly string[];
  /** prod(dims) elements, column-major; each maps every field name to its value. */
  readonly elements: readonly ReadonlyMap<string, MatValue>[];
}

export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

export interface MatReadOptions {
  /** Names the input in error messages (usually its path). */
  readonly source?: string;
  /** Most bytes decompression may produce, summed over the file (zip-bomb guard). Default 1 GiB. */
  readonly maxInflatedBytes?: number;
  /** Deepest nesting of cells and structs. Default 32. */
  readonly maxDepth?: number;
}

// Data types (matfile_format.pdf table 1-1).
const MI_INT8 = 1;
const MI_UINT8 = 2;
const MI_UINT16 = 4;
const MI_INT32 = 5;
const MI_UINT32 = 6;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_UTF8 = 16;
const MI_UTF16 = 17;
const MI_UTF32 = 18;

/** Numeric data types → bytes per value and a DataView reader. */
const NUMERIC_TYPES = new Map<number, [number, (v: DataView, at: number, le: boolean) => number]>([
  [1, [1, (v, at) => v.getInt8(at)]],
  [2, [1, (v, at) => v.getUint8(at)]],
  [3, [2, (v, at, le) => v.getInt16(at, le)]],
  [4, [2, (v, at, le) => v.getUint16(at, le)]],
  [5, [4, (v, at, le) => v.getInt32(at, le)]],
  [6, [4, (v, at, le) => v.getUint32(at, le)]],
  [7, [4, (v, at, le) => v.getFloat32(at, le)]],
  [9, [8, (v, at, le) => v.getFloat64(at, le)]],
  [12, [8, (v, at, le) => Number(v.getBigInt64(at, le))]],
  [13, [8, (v, at, le) => Number(v.getBigUint64(at, le))]],
]);

/** Array classes (matfile_format.pdf table 1-3), index = class id. */
const CLASSES = [
  '', 'cell', 'struct', 'object', 'char', 'sparse', 'double', 'single', 'int8', 'uint8',
  'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'function', 'opaque',
]; // prettier-ignore
const NUMERIC_CLASSES: ReadonlySet<string> = new Set(CLASSES.slice(6, 16));

/** A buffer being parsed: the file, or one inflated element (`where` says which in messages). */
interface Bytes {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly where: string;
}

/** One data element: its type, its data bytes [start, end) of `buf`, and where the next element starts. */
interface Element {
  readonly buf: Bytes;
  readonly type: number;
  readonly tagAt: number;
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

function bytesOf(bytes: Uint8Array, where: string): Bytes {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), where };
}

class MatParser {
  private inflated = 0;

  constructor(
    private readonly source: string,
    private readonly le: boolean,
    private readonly maxInflated: number,
    private readonly maxDepth: number,
  ) {}

  fail(buf: Bytes, at: number, message: string, cause?: unknown): never {
    throw datasetError(this.source, `${message} (byte ${at}${buf.where})`, cause);
  }

  /**
   * The element at `pos`, which must lie before `limit`; `padded`: its data is padded to 8 bytes (all but
   * top-level elements).
   */
  element(buf: Bytes, pos: number, limit: number, padded = true): Element {
    const left = limit - pos;
    if (left < 8) this.fail(buf, pos, `truncated element tag: 8 bytes needed, ${left} left`);
    const first = buf.view.getUint32(pos, this.le);
    if (first >>> 16 !== 0) {
      const size = first >>> 16;
      if (size > 4) this.fail(buf, pos, `small data element claims ${size} bytes (at most 4)`);
      return { buf, type: first & 0xffff, tagAt: pos, start: pos + 4, end: pos + 4 + size, next: pos + 8 };
    }
    const size = buf.view.getUint32(pos + 4, this.le);
    if (size > left - 8) this.fail(buf, pos, `element of ${size} bytes but only ${left - 8} left`);
    const end = pos + 8 + size;
    const next = padded ? Math.min(limit, end + ((8 - (size % 8)) % 8)) : end;
    return { buf, type: first, tagAt: pos, start: pos + 8, end, next };
  }

  /** A top-level element: miMATRIX, or miCOMPRESSED holding one miMATRIX. Returns its value and the next offset. */
  topLevel(file: Bytes, pos: number): [MatValue, number] {
    const e = this.element(file, pos, file.bytes.length, false);
    if (e.type === MI_MATRIX) return [this.matrix(e, 0), e.next];
    if (e.type !== MI_COMPRESSED) {
      this.fail(file, pos, `expected miMATRIX or miCOMPRESSED, found type ${e.type}`);
    }
    const budget = this.maxInflated - this.inflated;
    let bytes: Uint8Array;
    try {
      if (budget < 1) throw new RangeError('inflated-bytes budget spent');
      bytes = inflateSync(file.bytes.subarray(e.start, e.end), { maxOutputLength: budget });
    } catch (error) {
      return this.fail(file, pos, `cannot inflate compressed element: ${(error as Error).message}`, error);
    }
    this.inflated += bytes.length;
    const inner = bytesOf(bytes, ` of the element inflated from byte ${pos}`);
    const m = this.element(inner, 0, bytes.length);
    if (m.type !== MI_MATRIX) this.fail(inner, 0, `expected miMATRIX, found type ${m.type}`);
    return [this.matrix(m, 0), e.next];
  }

  /** The value of one miMATRIX element `m`. */
  matrix(m: Element, depth: number): MatValue {
    const { buf, end } = m;
    if (depth > this.maxDepth) this.fail(buf, m.tagAt, `cells/structs nested deeper than ${this.maxDepth}`);
    // An empty miMATRIX element is an empty 0×0 array (how MATLAB writes some empty cells).
    if (m.start === end) return numeric('', [0, 0], 'double', false, new Float64Array(0));

    const flags = this.element(buf, m.start, end);
    this.expect(flags, [MI_UINT32], 'array flags');
    if (flags.end - flags.start < 4) this.fail(buf, flags.tagAt, 'array flags shorter than 4 bytes');
    const word = buf.view.getUint32(flags.start, this.le);
    const className = CLASSES.at(word & 0xff) ?? '';
    const complex = (word & 0x800) !== 0;

    const dimsElement = this.element(buf, flags.next, end);
    this.expect(dimsElement, [MI_INT32], 'dimensions');
    const dims: number[] = [];
    for (let at = dimsElement.start; at + 4 <= dimsElement.end; at += 4) {
      dims.push(buf.view.getInt32(at, this.le));
    }
    if ((dimsElement.end - dimsElement.start) % 4 !== 0 || dims.length < 2 || dims.some((d) => d < 0)) {
      this.fail(buf, flags.next, `bad dimensions ${shape(dims)}`);
    }
    const count = dims.reduce((a, b) => a * b, 1);

    const nameElement = this.element(buf, dimsElement.next, end);
    this.expect(nameElement, [MI_INT8, MI_UINT8], 'array name');
    const name = latin1(buf.bytes.subarray(nameElement.start, nameElement.end));
    let pos = nameElement.next;

    if (className === 'cell' || className === 'struct') {
      const fields: string[] = [];
      if (className === 'struct') {
        const lengthElement = this.element(buf, pos, end);
        this.expect(lengthElement, [MI_INT32], 'field name length');
        const width = this.values(lengthElement).at(0) ?? 0;
        const namesElement = this.element(buf, lengthElement.next, end);
        this.expect(namesElement, [MI_INT8, MI_UINT8], 'field names');
        const all = buf.bytes.subarray(namesElement.start, namesElement.end);
        if (width < 1 || all.length % width !== 0) this.fail(buf, pos, `bad field name length ${width}`);
        for (let at = 0; at < all.length; at += width) {
          fields.push(latin1(all.subarray(at, at + width)).replace(/\0.*$/s, ''));
        }
        pos = namesElement.next;
      }
      // Every child is at least an 8-byte tag: reject impossible counts before allocating anything
      // (a struct without fields has no children: cap its element count at 65 536 all the same).
      const children = count * (className === 'cell' ? 1 : fields.length);
      if (children * 8 > end - pos || (fields.length === 0 && count > 2 ** 16)) {
        this.fail(buf, pos, `${className} claims ${count} values but only ${end - pos} bytes left`);
      }
      const values: MatValue[] = [];
      for (let i = 0; i < children; i++) {
        const child = this.element(buf, pos, end);
        if (child.type !== MI_MATRIX) {
          this.fail(buf, pos, `expected miMATRIX in ${className}, found type ${child.type}`);
        }
        values.push(this.matrix(child, depth + 1));
        pos = child.next;
      }
      if (className === 'cell') return { kind: 'cell', name, dims, cells: values };
      const elements = Array.from({ length: count }, (_, i) => {
        return new Map(fields.map((field, f) => [field, values[i * fields.length + f]]));
      });
      return { kind: 'struct', name, dims, fields, elements };
    }

    if (className === 'char') {
      return { kind: 'char', name, dims, text: this.chars(this.element(buf, pos, end), count) };
    }

    const what = name || 'a value';
    if (!NUMERIC_CLASSES.has(className)) {
      this.fail(buf, m.tagAt, `unsupported MATLAB class ${className || `id ${word & 0xff}`} for ${what}`);
    }
    if (complex) this.fail(buf, m.tagAt, `complex arrays are not supported (${what})`);
    const data = this.values(this.element(buf, pos, end));
    if (data.length !== count) {
      this.fail(buf, pos, `${what} has ${data.length} values for dimensions ${shape(dims)}`);
    }
    return numeric(name, dims, className as MatNumericClass, (word & 0x200) !== 0, data);
  }

  expect(e: Element, types: readonly number[], what: string): void {
    if (!types.includes(e.type)) this.fail(e.buf, e.tagAt, `expected ${what}, found data type ${e.type}`);
  }

  /** A numeric data element as float64 values. */
  values(e: Element): Float64Array {
    const spec = NUMERIC_TYPES.get(e.type);
    if (spec === undefined) {
      return this.fail(e.buf, e.tagAt, `expected numeric data, found data type ${e.type}`);
    }
    const [size, read] = spec;
    const length = e.end - e.start;
    if (length % size !== 0) this.fail(e.buf, e.tagAt, `${length} bytes is not a multiple of ${size}`);
    const out = new Float64Array(length / size);
    for (let i = 0; i < out.length; i++) out[i] = read(e.buf.view, e.start + i * size, this.le);
    if (size === 8 && e.type !== 9 && !out.every(Number.isSafeInteger)) {
      this.fail(e.buf, e.tagAt, '64-bit integer too large to hold exactly in a double');
    }
    return out;
  }

  /** Character data (miUINT16/miUTF16 code units, miUTF8, miUTF32, or one byte per character). */
  chars(e: Element, count: number): string {
    const { view } = e.buf;
    const bytes = e.buf.bytes.subarray(e.start, e.end);
    let text: string;
    try {
      if (e.type === MI_UTF8) text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      else if (e.type === MI_INT8 || e.type === MI_UINT8) text = latin1(bytes);
      else if (e.type === MI_UINT16 || e.type === MI_UTF16 || e.type === MI_UTF32) {
        const width = e.type === MI_UTF32 ? 4 : 2;
        if (bytes.length % width !== 0) throw new RangeError(`odd length ${bytes.length}`);
        text = '';
        for (let at = e.start; at < e.end; at += width) {
          if (width === 2) text += String.fromCharCode(view.getUint16(at, this.le));
          else text += String.fromCodePoint(view.getUint32(at, this.le));
        }
      } else throw new TypeError(`data type ${e.type} is not character data`);
    } catch (error) {
      return this.fail(e.buf, e.tagAt, `bad character data: ${(error as Error).message}`, error);
    }
    if (text.length !== count) this.fail(e.buf, e.tagAt, `${text.length} characters for ${count} expected`);
    return text;
  }
}

function numeric(
  name: string,
  dims: readonly number[],
  cls: MatNumericClass,
  logical: boolean,
  data: Float64Array,
): MatNumeric {
  return { kind: 'numeric', name, dims, class: cls, logical, data };
}

/** `2×3`, for messages (at most 8 dimensions shown). */
function shape(dims: readonly number[]): string {
  return dims.length > 8 ? `${dims.slice(0, 8).join('×')}×…` : dims.join('×');
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/**
 * Parses a MAT v5 file held in memory.
 * @returns the top-level variables by name, in file order
 */
export function readMat(bytes: Uint8Array, options: MatReadOptions = {}): ReadonlyMap<string, MatValue> {
  const source = options.source ?? 'MAT-file';
  const file = bytesOf(bytes, '');
  if (bytes.length < 128) {
    throw datasetError(source, `not a MAT-file: ${bytes.length} bytes, header needs 128`);
  }
  const mark = latin1(bytes.subarray(126, 128));
  if (mark !== 'IM' && mark !== 'MI') {
    throw datasetError(source, 'not a MAT v5 file (no endian mark at byte 126)');
  }
  const le = mark === 'IM';
  const version = file.view.getUint16(124, le);
  if (version !== 0x0100) {
    const hint = version === 0x0200 ? ' (v7.3 files are HDF5; save with -v7)' : '';
    throw datasetError(source, `unsupported MAT-file version 0x${version.toString(16)}${hint}`);
  }
  const parser = new MatParser(source, le, options.maxInflatedBytes ?? 2 ** 30, options.maxDepth ?? 32);
  const variables = new Map<string, MatValue>();
  for (let pos = 128; pos < bytes.length;) {
    const [value, next] = parser.topLevel(file, pos);
    variables.set(value.name, value);
    pos = next;
  }
  return variables;
}
