/**
 * A small, non-executing pickle reader for the subset of Python's pickle format that `torch.save` writes
 * (protocol 2, plus the protocol 3–5 opcodes a newer writer may use). SPEC §2.8.1.
 *
 * Nothing here runs Python semantics: `GLOBAL` only names an allow-listed callable, and `REDUCE` / `NEWOBJ`
 * record the call as an inert {@link PickleCall} for the caller to interpret. The one exception is
 * `collections.OrderedDict()`, which is a plain container and becomes a `Map`.
 *
 * Hostile input is expected (weights come from the internet): every length is checked against the bytes that
 * remain, so allocations are bounded by the input size; each opcode consumes at least one byte, so the loop is
 * bounded too; and every failure is an `E_WEIGHTS_FORMAT` error, never a RangeError or TypeError.
 */
import { UltrafaceError } from '../../core/errors.js';

/** An allow-listed Python global such as `torch._utils._rebuild_tensor_v2` (dotted module + name). */
export class PickleGlobal {
  constructor(readonly name: string) {}
}

/** `callable(*args)` as recorded by REDUCE or NEWOBJ; `state` is what a later BUILD supplied. */
export class PickleCall {
  state: PickleValue | undefined = undefined;
  constructor(
    readonly callable: PickleGlobal,
    readonly args: readonly PickleValue[],
  ) {}
}

/** A persistent id (BINPERSID): torch uses these to point at tensor storages outside the pickle. */
export class PicklePersistentId {
  constructor(readonly id: PickleValue) {}
}

/**
 * A decoded value. Lists are mutable arrays, tuples are frozen arrays, dicts (including OrderedDict) are Maps.
 * Integers are numbers when they are safe integers, bigints otherwise.
 */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PickleValue[]
  | Map<PickleValue, PickleValue>
  | PickleGlobal
  | PickleCall
  | PicklePersistentId;

export interface UnpickleOptions {
  /** Dotted names GLOBAL / STACK_GLOBAL may refer to; any other name is an error. */
  readonly globals: ReadonlySet<string>;
}

export interface UnpickleResult {
  readonly value: PickleValue;
  /** Offset just past the STOP opcode (the legacy torch format puts several pickles back to back). */
  readonly end: number;
  /** Every persistent id met, in order; lets the caller learn each storage's dtype before reading data. */
  readonly persistentIds: readonly PicklePersistentId[];
}

const ORDERED_DICT = 'collections.OrderedDict';
/** Python ints above this many bytes are not something torch writes; refuse rather than build a huge bigint. */
const MAX_LONG_BYTES = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Decode one pickle that starts at `offset` of `bytes`. Throws `E_WEIGHTS_FORMAT` on anything malformed. */
export function unpickle(bytes: Uint8Array, offset: number, options: UnpickleOptions): UnpickleResult {
  return new Unpickler(bytes, offset, options).run();
}

class Unpickler {
  private pos: number;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly persistentIds: PicklePersistentId[] = [];
  /** Start of the opcode being executed, for error messages. */
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    offset: number,
    private readonly options: UnpickleOptions,
  ) {
    this.pos = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): UnpickleResult {
    for (;;) {
      this.at = this.pos;
      const op = this.take(1)[0];
      if (op === 0x2e /* . STOP */) {
        return { value: this.pop(), end: this.pos, persistentIds: this.persistentIds };
      }
      this.step(op);
    }
  }

  // Opcode letters and names follow CPython's Lib/pickle.py.
  private step(op: number): void {
    const { stack } = this;
    switch (op) {
      case 0x80: {
        // PROTO
        const protocol = this.take(1)[0];
        if (protocol > 5) this.fail('a pickle protocol of at most 5', `protocol ${protocol}`);
        return;
      }
      case 0x95: // FRAME: a length hint for buffered readers; the opcodes inside are read as usual
        this.take(8);
        return;
      case 0x28: // ( MARK
        this.marks.push(stack.length);
        return;
      case 0x30: // 0 POP
        this.pop();
        return;
      case 0x31: // 1 POP_MARK
        this.popMark();
        return;
      case 0x4e: // N NONE
        stack.push(null);
        return;
      case 0x88: // NEWTRUE
        stack.push(true);
        return;
      case 0x89: // NEWFALSE
        stack.push(false);
        return;
      case 0x4b: // K BININT1
        stack.push(this.take(1)[0]);
        return;
      case 0x4d: // M BININT2
        stack.push(this.view.getUint16(this.advance(2), true));
        return;
      case 0x4a: // J BININT
        stack.push(this.view.getInt32(this.advance(4), true));
        return;
      case 0x8a: // LONG1
        stack.push(this.long(this.take(1)[0]));
        return;
      case 0x8b: // LONG4
        stack.push(this.long(this.length(4)));
        return;
      case 0x47: // G BINFLOAT (big-endian, unlike everything else)
        stack.push(this.view.getFloat64(this.advance(8), false));
        return;
      case 0x58: // X BINUNICODE
        stack.push(this.text(this.length(4)));
        return;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(this.text(this.take(1)[0]));
        return;
      case 0x8d: // BINUNICODE8
        stack.push(this.text(this.length(8)));
        return;
      case 0x55: // U SHORT_BINSTRING (a Python 2 str; torch only writes ASCII ones)
        stack.push(latin1.decode(this.take(this.take(1)[0])));
        return;
      case 0x54: // T BINSTRING
        stack.push(latin1.decode(this.take(this.length(4))));
        return;
      case 0x43: // C SHORT_BINBYTES
        stack.push(new Uint8Array(this.take(this.take(1)[0])));
        return;
      case 0x42: // B BINBYTES
        stack.push(new Uint8Array(this.take(this.length(4))));
        return;
      case 0x8e: // BINBYTES8
        stack.push(new Uint8Array(this.take(this.length(8))));
        return;
      case 0x7d: // } EMPTY_DICT
        stack.push(new Map());
        return;
      case 0x5d: // ] EMPTY_LIST
        stack.push([]);
        return;
      case 0x29: // ) EMPTY_TUPLE
        stack.push(Object.freeze([]));
        return;
      case 0x74: // t TUPLE
        stack.push(Object.freeze(this.popMark()));
        return;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        stack.push(Object.freeze(this.popN(op - 0x84)));
        return;
      case 0x6c: // l LIST
        stack.push(this.popMark());
        return;
      case 0x64: // d DICT
        stack.push(this.setItems(new Map(), this.popMark()));
        return;
      case 0x61: // a APPEND
        this.push(this.pop());
        return;
      case 0x65: // e APPENDS
        this.push(...this.popMark());
        return;
      case 0x73: // s SETITEM
      case 0x75: {
        // u SETITEMS; the dict sits below the key/value operands
        const items = op === 0x73 ? this.popN(2) : this.popMark();
        this.setItems(this.dictOnTop(), items);
        return;
      }
      case 0x63: // c GLOBAL: "module\nname\n"
        stack.push(this.global(`${this.line()}.${this.line()}`));
        return;
      case 0x93: {
        // STACK_GLOBAL
        const [module, name] = this.popN(2);
        if (typeof module !== 'string' || typeof name !== 'string') {
          this.fail('two strings for STACK_GLOBAL', `${describe(module)} and ${describe(name)}`);
        }
        stack.push(this.global(`${module}.${name}`));
        return;
      }
      case 0x52: // R REDUCE: callable, args → callable(*args)
      case 0x81: {
        // NEWOBJ: cls, args → cls.__new__(cls, *args); for our inert records the same thing
        const args = this.pop();
        stack.push(this.call(this.pop(), args));
        return;
      }
      case 0x62: {
        // b BUILD: obj.__setstate__(state)
        const state = this.pop();
        const target = this.peek();
        if (target instanceof PickleCall) target.state = state;
        // A dict's state is its instance attributes: the `_metadata` (module versions) torch attaches to a
        // state dict. Nothing downstream needs them.
        else if (!(target instanceof Map)) this.fail('an object or dict to BUILD', describe(target));
        return;
      }
      case 0x51: {
        // Q BINPERSID
        const id = new PicklePersistentId(this.pop());
        this.persistentIds.push(id);
        stack.push(id);
        return;
      }
      case 0x71: // q BINPUT
        this.memo.set(this.take(1)[0], this.peek());
        return;
      case 0x72: // r LONG_BINPUT
        this.memo.set(this.view.getUint32(this.advance(4), true), this.peek());
        return;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.peek());
        return;
      case 0x68: // h BINGET
        stack.push(this.memoGet(this.take(1)[0]));
        return;
      case 0x6a: // j LONG_BINGET
        stack.push(this.memoGet(this.view.getUint32(this.advance(4), true)));
        return;
      default:
        this.fail('a pickle opcode torch.save writes', `opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  // ---- operand readers (all bounds-checked) ----

  /** Consume `n` bytes and return the offset where they start. */
  private advance(n: number): number {
    if (n > this.bytes.length - this.pos) {
      this.fail(`${n} more bytes`, `${this.bytes.length - this.pos} (the data is truncated)`);
    }
    const start = this.pos;
    this.pos += n;
    return start;
  }

  private take(n: number): Uint8Array {
    const start = this.advance(n);
    return this.bytes.subarray(start, start + n);
  }

  /** A 4- or 8-byte little-endian length, checked against what remains before anything is allocated. */
  private length(size: 4 | 8): number {
    const start = this.advance(size);
    const n = size === 4 ? this.view.getUint32(start, true) : Number(this.view.getBigUint64(start, true));
    if (n > this.bytes.length - this.pos) {
      this.fail(`a length within the ${this.bytes.length - this.pos} remaining bytes`, `${n}`);
    }
    return n;
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('a newline-terminated GLOBAL operand', 'the end of the data');
    return latin1.decode(this.take(end - this.pos + 1).subarray(0, -1));
  }

  private text(n: number): string {
    const raw = this.take(n);
    try {
      return utf8.decode(raw);
    } catch (cause) {
      this.fail('a UTF-8 string', `${n} bytes that are not UTF-8`, cause);
    }
  }

  /** Two's-complement little-endian integer (LONG1 / LONG4). */
  private long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) this.fail(`an integer of at most ${MAX_LONG_BYTES} bytes`, `${n} bytes`);
    const raw = this.take(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (n > 0 && raw[n - 1] >= 0x80) value -= 1n << BigInt(8 * n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }

  // ---- stack, marks, memo ----

  private pop(): PickleValue {
    const floor = this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) this.fail('a value on the stack', 'an empty stack (stack underflow)');
    return this.stack.pop() as PickleValue;
  }

  private peek(): PickleValue {
    const value = this.pop();
    this.stack.push(value);
    return value;
  }

  private popN(n: number): PickleValue[] {
    const values: PickleValue[] = [];
    for (let i = 0; i < n; i++) values.unshift(this.pop());
    return values;
  }

  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('a MARK', 'none (stack underflow)');
    return this.stack.splice(mark);
  }

  private memoGet(index: number): PickleValue {
    const value = this.memo.get(index);
    if (value === undefined) this.fail('a memoized value', `nothing at memo index ${index}`);
    return value;
  }

  // ---- containers and calls ----

  /** APPEND(S) target: a list (tuples are frozen and cannot grow). */
  private push(...values: PickleValue[]): void {
    const list = this.peek();
    if (!isSequence(list) || Object.isFrozen(list)) this.fail('a list to append to', describe(list));
    (list as PickleValue[]).push(...values);
  }

  private dictOnTop(): Map<PickleValue, PickleValue> {
    const dict = this.peek();
    if (!(dict instanceof Map)) this.fail('a dict to set items on', describe(dict));
    return dict;
  }

  private setItems(dict: Map<PickleValue, PickleValue>, items: PickleValue[]): Map<PickleValue, PickleValue> {
    if (items.length % 2 !== 0) this.fail('key/value pairs', `${items.length} values`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
    return dict;
  }

  private global(name: string): PickleGlobal {
    if (name !== ORDERED_DICT && !this.options.globals.has(name)) {
      const allowed = [ORDERED_DICT, ...this.options.globals].join(', ');
      this.fail(`one of the allowed globals (${allowed}); other Python objects are never loaded`, name);
    }
    return new PickleGlobal(name);
  }

  private call(callable: PickleValue, args: PickleValue): PickleValue {
    if (!(callable instanceof PickleGlobal)) this.fail('a global to call', describe(callable));
    if (!isSequence(args)) this.fail('an argument tuple', describe(args));
    if (callable.name === ORDERED_DICT) {
      // OrderedDict() or OrderedDict([(key, value), ...]); torch writes the empty form and SETITEMS.
      const pairs = args.length === 0 ? [] : args[0];
      if (args.length > 1 || !isSequence(pairs)) this.fail('OrderedDict() arguments', describe(args));
      const dict = new Map<PickleValue, PickleValue>();
      for (const pair of pairs) {
        if (!isSequence(pair) || pair.length !== 2) this.fail('a (key, value) pair', describe(pair));
        dict.set(pair[0], pair[1]);
      }
      return dict;
    }
    // A snapshot, so no later APPEND can make a call reach itself through its own arguments.
    return new PickleCall(callable, Object.freeze([...args]));
  }

  private fail(expected: string, found: string, cause?: unknown): never {
    throw new UltrafaceError(
      'E_WEIGHTS_FORMAT',
      `Expected ${expected} in the pickle at byte ${this.at} but found ${found}`,
      { cause },
    );
  }
}

/** A list or a tuple. */
export function isSequence(value: PickleValue): value is readonly PickleValue[] {
  return Array.isArray(value);
}

/** A short, safe description of a value for error messages. */
export function describe(value: PickleValue): string {
  if (value === null) return 'None';
  if (value instanceof PickleGlobal) return `global ${value.name}`;
  if (value instanceof PickleCall) return `a call to ${value.callable.name}`;
  if (value instanceof PicklePersistentId) return 'a persistent id';
  if (value instanceof Map) return `a dict of ${value.size} items`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (isSequence(value)) return `${Object.isFrozen(value) ? 'a tuple' : 'a list'} of ${value.length} items`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
