/**
 * Read a PyTorch `.pth` state dict without PyTorch (SPEC §2.8.1). Two containers exist:
 *
 * - legacy (torch < 1.6, the upstream `models/pretrained/*.pth`): five pickles back to back (magic number,
 *   protocol version, sys info, the state dict, the list of storage keys), then each storage as an int64
 *   little-endian element count followed by its raw little-endian elements;
 * - zip (torch ≥ 1.6, e.g. the masked-face weights): `<archive>/data.pkl` plus one raw entry
 *   `<archive>/data/<key>` per storage.
 *
 * In both, a tensor is pickled as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` and the
 * storage as a persistent id `('storage', torch.FloatStorage, key, location, numel[, view])`.
 */
import { unzipSync } from 'fflate';

import { UltrafaceError } from '../../core/errors.js';
import type { WeightTensor } from '../weights.js';
import {
  PickleCall,
  PickleGlobal,
  PicklePersistentId,
  describe,
  isSequence,
  unpickle,
  type PickleValue,
} from './pickle.js';

type TensorData = WeightTensor['data'];

interface Dtype {
  /** Bytes per element in the file. */
  readonly size: number;
  /** `raw` holds whole elements, little-endian. */
  decode(raw: Uint8Array): TensorData;
}

/**
 * Storage classes we read. float32 and int64 are what ultraface uses (SPEC §2.8); half and bfloat16 widen to
 * float32 exactly, double is rounded to it (weights never need the extra precision).
 */
const DTYPES: ReadonlyMap<string, Dtype> = new Map([
  ['torch.FloatStorage', { size: 4, decode: (raw) => new Float32Array(copyLittleEndian(raw, 4)) }],
  ['torch.LongStorage', { size: 8, decode: (raw) => new BigInt64Array(copyLittleEndian(raw, 8)) }],
  ['torch.DoubleStorage', { size: 8, decode: (raw) => toFloat32(raw, 8, (v, i) => v.getFloat64(i, true)) }],
  [
    'torch.HalfStorage',
    { size: 2, decode: (raw) => toFloat32(raw, 2, (v, i) => halfToNumber(v.getUint16(i, true))) },
  ],
  ['torch.BFloat16Storage', { size: 2, decode: bfloat16ToFloat32 }],
]);

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
/** An `nn.Parameter` wraps a tensor: `_rebuild_parameter(tensor, requires_grad, backward_hooks)`. */
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
/** `collections.OrderedDict` is always allowed (the pickle reader treats it as a dict). */
const TORCH_GLOBALS: ReadonlySet<string> = new Set([REBUILD_TENSOR, REBUILD_PARAMETER, ...DTYPES.keys()]);
const NO_GLOBALS: ReadonlySet<string> = new Set();

/** First pickle of the legacy format: torch.serialization.MAGIC_NUMBER. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4"
/** Smallest zip central-directory record; bounds how many entries a file of a given size can hold. */
const ZIP_CENTRAL_RECORD_BYTES = 46;
const DATA_PARALLEL_PREFIX = 'module.';

/** Where a tensor's elements live: a storage of the file, or (legacy only) a slice of one. */
interface StorageRef {
  readonly key: string;
  readonly dtype: Dtype;
  readonly dtypeName: string;
  /** Elements in the whole storage as written to the file. */
  readonly numel: number;
  /** Legacy storage views: `(view_key, offset, size)`, in elements of the root storage. */
  readonly view: { readonly offset: number; readonly numel: number } | undefined;
}

/** A decoded container: the pickled root object, its storage references, and a way to fetch raw storages. */
interface Archive {
  readonly root: PickleValue;
  readonly storages: ReadonlyMap<PicklePersistentId, StorageRef>;
  /** Raw little-endian bytes of a storage, already checked to hold exactly `numel` elements. */
  rawStorage(ref: StorageRef): Uint8Array;
}

/**
 * Read a `.pth` file into its state dict, keys in file order. Accepts a bare state dict or a training checkpoint
 * holding one under `state_dict` or `model`; a DataParallel `module.` prefix on every key is removed.
 * float32 and int64 tensors come back as Float32Array / BigInt64Array; half, bfloat16 and double become float32.
 * Tensors that share a storage in the file share memory here, as in PyTorch.
 * Throws `E_WEIGHTS_FORMAT` for anything malformed or unsupported; no Python object is ever executed.
 */
export function readPth(bytes: Uint8Array): Map<string, WeightTensor> {
  const archive = ZIP_LOCAL_HEADER.every((b, i) => bytes[i] === b) ? readZip(bytes) : readLegacy(bytes);
  const decoded = new Map<string, TensorData>();
  const tensors = new Map<string, WeightTensor>();
  for (const [name, value] of findStateDict(archive.root)) {
    if (typeof name !== 'string') fail('string keys in the state dict', describe(name));
    const { storage, offset, shape, numel } = parseTensor(value, name, archive.storages);
    let data = decoded.get(storage.key);
    if (data === undefined) {
      data = storage.dtype.decode(archive.rawStorage(storage));
      decoded.set(storage.key, data);
    }
    const start = (storage.view?.offset ?? 0) + offset;
    tensors.set(name, { shape, data: data.subarray(start, start + numel) });
  }
  return stripPrefix(tensors, DATA_PARALLEL_PREFIX);
}

// ---- containers ----

function readLegacy(bytes: Uint8Array): Archive {
  if (bytes[0] !== 0x80) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(
      'a PyTorch .pth file (a zip archive, or a pickle stream starting with 80)',
      `bytes ${head || '(none)'}`,
    );
  }
  let pos = 0;
  const next = (globals: ReadonlySet<string>) => {
    const result = unpickle(bytes, pos, { globals });
    pos = result.end;
    return result;
  };
  const magic = next(NO_GLOBALS).value;
  if (magic !== LEGACY_MAGIC) fail('the legacy torch magic number', describe(magic));
  const protocol = next(NO_GLOBALS).value;
  if (protocol !== LEGACY_PROTOCOL) fail(`legacy protocol version ${LEGACY_PROTOCOL}`, describe(protocol));
  const sysInfo = next(NO_GLOBALS).value;
  if (!(sysInfo instanceof Map) || sysInfo.get('little_endian') !== true) {
    fail('sys info of a little-endian writer', describe(sysInfo));
  }
  const { value: root, persistentIds } = next(TORCH_GLOBALS);
  const storages = storageRefs(persistentIds);
  const keys = next(NO_GLOBALS).value;
  if (!isSequence(keys)) fail('the list of storage keys', describe(keys));

  // The storages follow in the order of `keys`; element sizes come from the persistent ids.
  const dtypes = new Map([...storages.values()].map((ref) => [ref.key, ref.dtype]));
  const raw = new Map<string, Uint8Array>();
  for (const key of keys) {
    const dtype = typeof key === 'string' ? dtypes.get(key) : undefined;
    if (typeof key !== 'string' || dtype === undefined || raw.has(key)) {
      fail('each storage key once, used by a tensor', describe(key));
    }
    if (bytes.length - pos < 8) fail(`the element count of storage ${key}`, 'the end of the file');
    const count = new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getBigInt64(0, true);
    pos += 8;
    if (count < 0n || count * BigInt(dtype.size) > BigInt(bytes.length - pos)) {
      fail(`storage ${key} within the ${bytes.length - pos} remaining bytes`, `${count} elements`);
    }
    const length = Number(count) * dtype.size;
    raw.set(key, bytes.subarray(pos, pos + length));
    pos += length;
  }
  return {
    root,
    storages,
    rawStorage: (ref) => checkedStorage(raw.get(ref.key), ref),
  };
}

function readZip(bytes: Uint8Array): Archive {
  // Only the entries torch reads are extracted. fflate trusts the entry count of the end-of-central-directory
  // record, so cap it by what the file can hold (a forged count would otherwise loop for billions of entries).
  const wanted = /^[^/]+\/(data\.pkl|byteorder|data\/[^/]+)$/;
  const maxEntries = Math.floor(bytes.length / ZIP_CENTRAL_RECORD_BYTES);
  let seen = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: ({ name, compression }) => {
        if (++seen > maxEntries) fail(`at most ${maxEntries} zip entries in ${bytes.length} bytes`, 'more');
        // torch writes every entry uncompressed ("stored"); refusing the rest also rules out zip bombs.
        if (!wanted.test(name)) return false;
        if (compression !== 0)
          fail(`an uncompressed zip entry for ${name}`, `compression method ${compression}`);
        return true;
      },
    });
  } catch (cause) {
    if (cause instanceof UltrafaceError) throw cause;
    fail('a readable zip archive', 'a damaged one', cause);
  }
  const get = (name: string) => (Object.hasOwn(entries, name) ? entries[name] : undefined);

  const pickles = Object.keys(entries).filter((name) => name.endsWith('/data.pkl'));
  if (pickles.length !== 1) fail('one <archive>/data.pkl entry in the zip', `${pickles.length}`);
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  const byteorder = get(`${prefix}byteorder`);
  if (byteorder !== undefined && new TextDecoder().decode(byteorder) !== 'little') {
    fail('little-endian storages', `byteorder "${new TextDecoder().decode(byteorder)}"`);
  }
  const { value: root, persistentIds } = unpickle(entries[pickles[0]], 0, { globals: TORCH_GLOBALS });
  return {
    root,
    storages: storageRefs(persistentIds),
    rawStorage: (ref) => checkedStorage(get(`${prefix}data/${ref.key}`), ref),
  };
}

function checkedStorage(raw: Uint8Array | undefined, ref: StorageRef): Uint8Array {
  if (raw === undefined) fail(`the data of storage ${ref.key}`, 'no such storage in the file');
  if (raw.length !== ref.numel * ref.dtype.size) {
    fail(
      `${ref.numel * ref.dtype.size} bytes for storage ${ref.key} (${ref.numel} × ${ref.dtypeName})`,
      `${raw.length}`,
    );
  }
  return raw;
}

// ---- pickled objects → tensors ----

/** Parse every `('storage', type, key, location, numel[, view])` persistent id (SPEC §2.8.1). */
function storageRefs(ids: readonly PicklePersistentId[]): Map<PicklePersistentId, StorageRef> {
  const refs = new Map<PicklePersistentId, StorageRef>();
  const byKey = new Map<string, StorageRef>();
  for (const pid of ids) {
    const { id } = pid;
    if (!isSequence(id) || id[0] !== 'storage' || (id.length !== 5 && id.length !== 6)) {
      fail("a storage persistent id ('storage', type, key, location, numel)", describe(id));
    }
    const [, type, key, , numel, view] = id;
    const dtype = type instanceof PickleGlobal ? DTYPES.get(type.name) : undefined;
    if (!(type instanceof PickleGlobal) || dtype === undefined) fail('a torch storage class', describe(type));
    if (typeof key !== 'string') fail('a string storage key', describe(key));
    const ref: StorageRef = {
      key,
      dtype,
      dtypeName: type.name,
      numel: toIndex(numel, `numel of storage ${key}`),
      view: parseView(view, key),
    };
    const previous = byKey.get(key);
    if (previous && (previous.dtype !== ref.dtype || previous.numel !== ref.numel)) {
      fail(`one type and size for storage ${key}`, `${previous.dtypeName} and ${ref.dtypeName}`);
    }
    if (ref.view && ref.view.offset + ref.view.numel > ref.numel) {
      fail(
        `a view within the ${ref.numel} elements of storage ${key}`,
        `${ref.view.offset} + ${ref.view.numel}`,
      );
    }
    byKey.set(key, ref);
    refs.set(pid, ref);
  }
  return refs;
}

/** Legacy `view_metadata`: None, or `(view_key, offset, size)` in elements of the root storage. */
function parseView(view: PickleValue | undefined, key: string): StorageRef['view'] {
  if (view === undefined || view === null) return undefined;
  if (!isSequence(view) || view.length !== 3)
    fail(`view metadata (key, offset, size) for storage ${key}`, describe(view));
  return {
    offset: toIndex(view[1], `view offset of storage ${key}`),
    numel: toIndex(view[2], `view size of ${key}`),
  };
}

interface TensorRef {
  readonly storage: StorageRef;
  /** In elements, from the start of the storage (or of its view). */
  readonly offset: number;
  readonly shape: number[];
  readonly numel: number;
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function parseTensor(
  value: PickleValue,
  name: string,
  storages: ReadonlyMap<PicklePersistentId, StorageRef>,
): TensorRef {
  let call = value;
  if (call instanceof PickleCall && call.callable.name === REBUILD_PARAMETER) call = call.args[0] ?? null;
  if (!(call instanceof PickleCall) || call.callable.name !== REBUILD_TENSOR || call.args.length < 4) {
    fail(`a tensor for ${name}`, describe(value));
  }
  const [pid, offsetArg, sizeArg, strideArg] = call.args;
  const storage = pid instanceof PicklePersistentId ? storages.get(pid) : undefined;
  if (storage === undefined) fail(`a storage reference for ${name}`, describe(pid));
  const offset = toIndex(offsetArg, `storage offset of ${name}`);
  const shape = toIndexList(sizeArg, `size of ${name}`);
  const stride = toIndexList(strideArg, `stride of ${name}`);
  const numel = checkedElementCount(shape, name);
  if (stride.length !== shape.length || (numel > 0 && !isContiguous(shape, stride))) {
    fail(
      `a contiguous tensor for ${name} (call .contiguous() before saving)`,
      `size [${shape.join(', ')}] with stride [${stride.join(', ')}]`,
    );
  }
  const available = storage.view?.numel ?? storage.numel;
  if (offset + numel > available) {
    fail(`${name} within the ${available} elements of its storage`, `offset ${offset} + ${numel} elements`);
  }
  return { storage, offset, shape, numel };
}

/** Row-major with no gaps; a dimension of size 1 may carry any stride (PyTorch's own definition). */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** A state dict, or a training checkpoint wrapping one (`{'epoch': …, 'state_dict': …}`, `{'model': …}`). */
function findStateDict(root: PickleValue): Map<PickleValue, PickleValue> {
  const expected = "a state dict of tensors, or a checkpoint with one under 'state_dict' or 'model'";
  if (!(root instanceof Map)) fail(expected, describe(root));
  for (const candidate of [root, root.get('state_dict'), root.get('model')]) {
    if (candidate instanceof Map && [...candidate.values()].every((v) => v instanceof PickleCall))
      return candidate;
  }
  fail(expected, `a dict with keys ${[...root.keys()].map(describe).join(', ')}`);
}

function stripPrefix(tensors: Map<string, WeightTensor>, prefix: string): Map<string, WeightTensor> {
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((key) => key.startsWith(prefix))) return tensors;
  return new Map([...tensors].map(([key, tensor]) => [key.slice(prefix.length), tensor]));
}

// ---- small helpers ----

function toIndex(value: PickleValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(`a non-negative integer for the ${what}`, value === undefined ? 'nothing' : describe(value));
  }
  return value;
}

function toIndexList(value: PickleValue | undefined, what: string): number[] {
  if (value === undefined || !isSequence(value))
    fail(`a tuple for the ${what}`, value === undefined ? 'nothing' : describe(value));
  return value.map((v) => toIndex(v, what));
}

function checkedElementCount(shape: readonly number[], name: string): number {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count))
    fail(`a representable element count for ${name}`, `size [${shape.join(', ')}]`);
  return count;
}

/**
 * Typed arrays use the host's byte order; torch storages are little-endian. Copying also aligns the data.
 * (`new Uint8Array(raw)`, not `raw.slice()`: a Node Buffer's slice shares memory.)
 */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function copyLittleEndian(raw: Uint8Array, size: number): ArrayBuffer {
  const copy = new Uint8Array(raw);
  if (!LITTLE_ENDIAN_HOST) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  return copy.buffer;
}

function toFloat32(
  raw: Uint8Array,
  size: number,
  read: (view: DataView, offset: number) => number,
): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(raw.length / size);
  for (let i = 0; i < out.length; i++) out[i] = read(view, i * size);
  return out;
}

/** bfloat16 is the top half of a float32, so shifting it into place keeps every bit. */
function bfloat16ToFloat32(raw: Uint8Array): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bits = new Uint32Array(raw.length / 2);
  for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  return new Float32Array(bits.buffer);
}

/** IEEE 754 binary16 → number (exact: every half is a float32). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function fail(expected: string, found: string, cause?: unknown): never {
  throw new UltrafaceError('E_WEIGHTS_FORMAT', `Expected ${expected} but found ${found}`, { cause });
}
