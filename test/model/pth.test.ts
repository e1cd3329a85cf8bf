import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import fc from 'fast-check';
import onnxProto from 'onnx-proto';

import { isUltrafaceError } from '../../src/core/errors.js';
import { PickleCall, PicklePersistentId, unpickle, type PickleValue } from '../../src/model/import/pickle.js';
import { readPth } from '../../src/model/import/pth.js';
import type { WeightTensor } from '../../src/model/weights.js';
import { sharedPath } from '../helpers/shared.js';

const { onnx } = onnxProto;

const UPSTREAM = [
  // SPEC §2.7 (num_batches_tracked) and §2.8.1 (the *-320 and RFB-640 ONNX initializers are bit-identical).
  { name: 'version-slim-320', keys: 'slim', batches: 91656n, onnx: 'version-slim-320.onnx' },
  { name: 'version-slim-640', keys: 'slim', batches: 107200n, onnx: undefined },
  { name: 'version-RFB-320', keys: 'RFB', batches: 86296n, onnx: 'version-RFB-320.onnx' },
  { name: 'version-RFB-640', keys: 'RFB', batches: 107200n, onnx: 'version-RFB-640.onnx' },
] as const;

const fixture = (name: string) => readFileSync(new URL(`../fixtures/pth/${name}`, import.meta.url));
const upstreamPth = (name: string) =>
  readFileSync(sharedPath(`reference/upstream/models/pretrained/${name}.pth`));

function bytesOf(data: WeightTensor['data']): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Initializer name → [dims, little-endian bytes]; the exporter may use `rawData` or the typed fields.
 * 64-bit fields decode as Long objects (or numbers); `String()` gives their decimal form either way.
 */
function onnxInitializers(file: string): Map<string, [number[], Uint8Array]> {
  const model = onnx.ModelProto.decode(readFileSync(sharedPath(`reference/upstream/models/onnx/${file}`)));
  const result = new Map<string, [number[], Uint8Array]>();
  for (const init of model.graph?.initializer ?? []) {
    const dims = (init.dims ?? []).map((d) => Number(String(d)));
    let bytes = init.rawData ?? new Uint8Array();
    if (bytes.length === 0 && init.floatData?.length) bytes = bytesOf(Float32Array.from(init.floatData));
    if (bytes.length === 0 && init.int64Data?.length) {
      bytes = bytesOf(BigInt64Array.from(init.int64Data, (v) => BigInt(String(v))));
    }
    result.set(init.name ?? '', [dims, bytes]);
  }
  return result;
}

/** readPth either succeeds or refuses with E_WEIGHTS_FORMAT; anything else (RangeError, TypeError…) fails. */
function readsOrRefuses(bytes: Uint8Array): void {
  try {
    readPth(bytes);
  } catch (error) {
    assert.ok(isUltrafaceError(error, 'E_WEIGHTS_FORMAT'), `escaped: ${String(error)}`);
  }
}

function assertRefused(fn: () => unknown, message: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) => isUltrafaceError(error, 'E_WEIGHTS_FORMAT') && message.test(error.message),
  );
}

describe('readPth: upstream weights (legacy format, SPEC §2.8.1)', () => {
  for (const { name, keys, batches, onnx: onnxFile } of UPSTREAM) {
    it(`${name}.pth: keys, shapes, num_batches_tracked${onnxFile ? ' and values vs the ONNX' : ''}`, () => {
      const weights = readPth(upstreamPth(name));
      const expected = JSON.parse(
        readFileSync(sharedPath(`reference/state_dict_${keys}.json`), 'utf8'),
      ) as Record<string, number[]>;
      assert.deepEqual(
        [...weights].map(([key, t]) => [key, t.shape]),
        Object.entries(expected),
      );
      for (const [key, tensor] of weights) {
        if (key.endsWith('num_batches_tracked')) assert.deepEqual([...tensor.data], [batches], key);
        else assert.ok(tensor.data instanceof Float32Array, key);
      }
      if (onnxFile === undefined) return;
      const initializers = onnxInitializers(onnxFile);
      assert.deepEqual([...initializers.keys()].sort(), [...weights.keys()].sort());
      for (const [key, tensor] of weights) {
        const [dims, bytes] = initializers.get(key) ?? [[], new Uint8Array()];
        assert.deepEqual(dims, tensor.shape, key);
        assert.ok(
          Buffer.from(bytes).equals(bytesOf(tensor.data)),
          `${key} differs from the ONNX initializer`,
        );
      }
    });
  }
});

describe('readPth: files written by torch.save (scripts/fixtures/make-zip-pth.py)', () => {
  const expected = JSON.parse(fixture('tiny-expected.json').toString('utf8')) as {
    tensors: Record<string, { shape: number[]; dtype: 'float32' | 'int64'; values: (number | string)[] }>;
  };

  function assertTiny(weights: Map<string, WeightTensor>): void {
    assert.deepEqual([...weights.keys()], Object.keys(expected.tensors));
    for (const [key, { shape, dtype, values }] of Object.entries(expected.tensors)) {
      const tensor = weights.get(key);
      assert.ok(tensor, key);
      assert.deepEqual(tensor.shape, shape, key);
      assert.ok(tensor.data instanceof (dtype === 'int64' ? BigInt64Array : Float32Array), key);
      // JSON holds float32 values as exact doubles and int64 values as decimal strings.
      const want = dtype === 'int64' ? values.map((v) => BigInt(v)) : values;
      assert.deepEqual([...tensor.data], want, key);
    }
  }

  it('zip format: offsets into a shared storage, a size-1 dim with odd stride, half/bfloat16/double', () => {
    const weights = readPth(fixture('tiny-zip.pth'));
    assertTiny(weights);
    // head.weight and head.bias are views of one 10-element storage; they share memory as in PyTorch.
    assert.equal(weights.get('head.weight')?.data.buffer, weights.get('head.bias')?.data.buffer);
  });

  it('legacy format written by torch 1.13 (not only the upstream files)', () => {
    assertTiny(readPth(fixture('tiny-legacy.pth')));
  });

  it('a training checkpoint: state dict under "state_dict", DataParallel "module." prefix removed', () => {
    assertTiny(readPth(fixture('tiny-checkpoint.pth')));
  });

  it('refuses a non-contiguous tensor and says how to fix it', () => {
    assertRefused(
      () => readPth(fixture('non-contiguous.pth')),
      /contiguous tensor for transposed.*stride \[1, 4\]/,
    );
  });

  it('refuses files that are not .pth files, and a forged zip entry count', () => {
    assertRefused(() => readPth(new Uint8Array()), /PyTorch \.pth file/);
    const onnxFile = readFileSync(sharedPath('reference/upstream/models/onnx/version-slim-320.onnx'));
    assertRefused(() => readPth(onnxFile), /PyTorch \.pth file/);
    // torch always writes a zip64 end record; 2^32 - 1 entries there would keep fflate looping for minutes.
    const zip = new Uint8Array(fixture('tiny-zip.pth'));
    const zip64End = Buffer.from(zip.buffer).lastIndexOf(Buffer.from('PK\x06\x06', 'latin1'));
    new DataView(zip.buffer).setUint32(zip64End + 32, 0xffffffff, true); // total entries
    assertRefused(() => readPth(zip), /at most 96 zip entries/);
  });
});

describe('unpickle: hostile input', () => {
  const TORCH = { globals: new Set(['torch._utils._rebuild_tensor_v2']) };
  const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  const load = (text: string): PickleValue => unpickle(bytes(text), 0, TORCH).value;

  it('decodes the torch subset: OrderedDict, persistent ids, inert calls, LONG1, BINFLOAT', () => {
    // d = OrderedDict(); d.update(w=_rebuild_tensor_v2(persid(('storage',)), 0), n=2**40, f=0.5); d.__dict__ = {}
    const pickle =
      '\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00w' +
      'ctorch._utils\n_rebuild_tensor_v2\n(X\x07\x00\x00\x00storage\x85QK\x00tR' +
      'X\x01\x00\x00\x00n\x8a\x06\x00\x00\x00\x00\x00\x01' +
      'X\x01\x00\x00\x00fG\x3f\xe0\x00\x00\x00\x00\x00\x00u}b.'; // BUILD: OrderedDict attributes
    const result = unpickle(bytes(pickle), 0, TORCH);
    assert.ok(result.value instanceof Map);
    const call = result.value.get('w');
    assert.ok(call instanceof PickleCall);
    assert.equal(call.callable.name, 'torch._utils._rebuild_tensor_v2');
    assert.ok(call.args[0] instanceof PicklePersistentId);
    assert.deepEqual(call.args[0].id, ['storage']);
    assert.equal(result.persistentIds.length, 1);
    assert.equal(result.value.get('n'), 2 ** 40);
    assert.equal(result.value.get('f'), 0.5);
    assert.equal(result.end, pickle.length);
  });

  it('a self-referencing list decodes without recursion', () => {
    const list = load('\x80\x02]q\x00h\x00a.');
    assert.ok(Array.isArray(list));
    assert.equal(list[0], list);
  });

  const refusals: [string, string, RegExp][] = [
    [
      'GLOBAL outside the allow-list',
      'cos\nsystem\n(X\x02\x00\x00\x00lstR.',
      /allowed globals.*found os\.system/,
    ],
    [
      'STACK_GLOBAL outside the allow-list',
      '\x80\x04\x8c\x08builtins\x8c\x04eval\x93.',
      /found builtins\.eval/,
    ],
    ['unknown opcode', '\x80\x02\xff', /opcode 0xff/],
    ['newer protocol', '\x80\x06N.', /protocol 6/],
    ['empty input', '', /truncated/],
    ['truncated string', '\x80\x02X\x05\x00\x00\x00ab', /length within the 2 remaining bytes/],
    ['absurd length', '\x80\x02X\xff\xff\xff\xff', /length within the 0 remaining bytes.*4294967295/],
    ['absurd LONG4', '\x80\x02\x8b\x00\x00\x01\x00' + '\x00'.repeat(65536), /at most 32 bytes/],
    ['stack underflow', '\x80\x02.', /stack underflow/],
    ['pop below a MARK', '\x80\x02K\x01(a.', /stack underflow/],
    ['MARK missing', '\x80\x02]K\x01e.', /MARK/],
    ['memo miss', '\x80\x02h\x05.', /memo index 5/],
    ['APPEND to a tuple', '\x80\x02)K\x01a.', /list to append to.*tuple/],
    ['SETITEM on a list', '\x80\x02]K\x01K\x02s.', /dict to set items on/],
    ['odd SETITEMS', '\x80\x02}(K\x01u.', /key\/value pairs/],
    ['REDUCE of a non-global', '\x80\x02K\x01)R.', /global to call/],
    ['invalid UTF-8', '\x80\x02X\x01\x00\x00\x00\xff.', /UTF-8/],
  ];
  for (const [what, pickle, message] of refusals) {
    it(`refuses ${what}`, () => {
      assertRefused(() => load(pickle), message);
    });
  }
});

describe('readPth: fuzz (returns or throws E_WEIGHTS_FORMAT; nothing else escapes)', () => {
  const files = {
    legacy: new Uint8Array(fixture('tiny-legacy.pth')),
    zip: new Uint8Array(fixture('tiny-zip.pth')),
    checkpoint: new Uint8Array(fixture('tiny-checkpoint.pth')),
  };

  for (const [kind, file] of Object.entries(files)) {
    it(`${kind}: every truncation`, () => {
      for (let length = 0; length < file.length; length++) readsOrRefuses(file.subarray(0, length));
    });

    it(`${kind}: 400 seeded random byte changes`, () => {
      fc.assert(
        fc.property(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
          const copy = new Uint8Array(file);
          copy[at] ^= xor;
          readsOrRefuses(copy);
        }),
        { seed: 1950, numRuns: 400 },
      );
    });
  }

  it('upstream RFB-320: truncations every 97 bytes through the pickles, then every 9973', () => {
    const file = new Uint8Array(upstreamPth('version-RFB-320'));
    // The five pickles end at byte 41 742; past them the reader only walks storage headers.
    for (let length = 0; length < file.length; length += length < 42_000 ? 97 : 9973) {
      readsOrRefuses(file.subarray(0, length));
    }
  });

  it('random buffers, bare or behind a pickle / zip header', () => {
    const header = fc.constantFrom([], [0x80, 0x02], [0x50, 0x4b, 0x03, 0x04]);
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 2048 }), (head, body) => {
        readsOrRefuses(Uint8Array.from([...head, ...body]));
      }),
      { seed: 1951, numRuns: 500 },
    );
  });

  it('random opcode soup after PROTO 2', () => {
    // Bias the bytes towards opcodes the reader implements so the stack machine is actually exercised.
    const opcodes = Array.from(
      Buffer.from('()]}NKMJXqhrjtsuaeRbQ.\x85\x86\x87\x88\x89\x8a\x8c\x93\x94', 'latin1'),
    );
    const byte = fc.oneof(fc.constantFrom(...opcodes), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 200 }), (body) => {
        readsOrRefuses(Uint8Array.from([0x80, 0x02, ...body]));
        try {
          unpickle(Uint8Array.from([0x80, 0x02, ...body]), 0, { globals: new Set() });
        } catch (error) {
          assert.ok(isUltrafaceError(error, 'E_WEIGHTS_FORMAT'), `escaped: ${String(error)}`);
        }
      }),
      { seed: 1952, numRuns: 2000 },
    );
  });
});
