import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createRandom } from '../../src/core/random.js';
import { INPUT_SIZES } from '../../src/core/presets.js';
import { readWeightsFile } from '../../src/model/import/weights-file.js';
import { createModel } from '../../src/model/model.js';
import { buildNetwork } from '../../src/model/network.js';
import { decodeOnnx, inspectOnnx } from '../../src/model/onnx/reader.js';
import { exportOnnx } from '../../src/model/onnx/writer.js';
import type { Weights, WeightTensor } from '../../src/model/weights.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { initialWeights } from '../../src/train/init.js';
import { runCli } from '../helpers/cli.js';
import { maxAbsDiff, run, session, syntheticInput } from '../helpers/onnx.js';

/** Slim weights from `seed`, with BN statistics made to differ between seeds too (fresh ones are 0 and 1). */
function slimWeights(seed: number): Weights {
  const random = createRandom(seed);
  const weights = new Map<string, WeightTensor>();
  for (const [name, tensor] of initialWeights(buildNetwork('slim'), createRandom(seed))) {
    const data =
      tensor.data instanceof Float32Array && /running_(mean|var)$/.test(name)
        ? tensor.data.map((v) => v + random.uniform())
        : tensor.data;
    weights.set(name, { shape: tensor.shape, data });
  }
  return weights;
}

/** `share · a + (1 − share) · b`, tensor by tensor (int64 counters from `a`), in float32 like the command. */
function weightedMean(a: Weights, b: Weights, share: number): Weights {
  return new Map(
    [...a].map(([name, t]) => {
      if (!(t.data instanceof Float32Array)) return [name, t];
      const other = b.get(name)!.data as Float32Array;
      return [name, { shape: t.shape, data: t.data.map((v, i) => share * v + (1 - share) * other[i]) }];
    }),
  );
}

describe('ultraface average', () => {
  let dir: string;
  let a: Weights;
  let b: Weights;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-average-'));
    [a, b] = [slimWeights(1), slimWeights(2)];
    const config = { net: 'slim', inputSize: 128 };
    for (const [file, weights] of [
      ['a.ckpt', a],
      ['b.ckpt', b],
    ] as const) {
      const momentum = [...weights].map(([name, t]) => [`momentum:${name}`, t] as const);
      await saveCheckpoint(join(dir, file), {
        state: { config, step: 7 },
        tensors: new Map([...weights, ...momentum]),
      });
    }
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the weighted mean of two checkpoints, at the first one’s training size', async () => {
    const out = join(dir, 'soup-bn.onnx');
    const result = await runCli([
      'average',
      join(dir, 'a.ckpt'),
      join(dir, 'b.ckpt'),
      '--weights',
      '1,3',
      '--no-fold-bn',
      '-o',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /slim at 128 input, average of .*a\.ckpt ×1, .*b\.ckpt ×3/);
    const bytes = readFileSync(out);
    assert.deepEqual(inspectOnnx(decodeOnnx(bytes)).inputDims.slice(2), [96, 128]);
    const { weights } = readWeightsFile(bytes);
    let checked = 0;
    for (const [name, expected] of weightedMean(a, b, 0.25)) {
      if (!(expected.data instanceof Float32Array)) continue;
      assert.ok(maxAbsDiff(weights.get(name)!.data as Float32Array, expected.data) < 1e-6, name);
      checked++;
    }
    assert.ok(checked > 50, `${checked} tensors compared`);
  });

  it('folds BN by default: the same outputs as exporting the mean state dict', async () => {
    const out = join(dir, 'soup.onnx');
    const result = await runCli(['average', join(dir, 'a.ckpt'), join(dir, 'b.ckpt'), '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    const expected = exportOnnx(createModel(weightedMean(a, b, 0.5), 'slim'), {
      inputSize: INPUT_SIZES[128],
    });
    const input = syntheticInput(128, 96);
    const [ours, reference] = [await session(readFileSync(out)), await session(expected)];
    const [x, y] = [await run(ours, input), await run(reference, input)];
    assert.ok(maxAbsDiff(x.scores, y.scores) < 1e-5);
    assert.ok(maxAbsDiff(x.boxes, y.boxes) < 1e-5);
    await Promise.all([ours.release(), reference.release()]);
  });

  it('averages a checkpoint with an export made with --no-fold-bn, which holds no BN counters', async () => {
    const exported = join(dir, 'b-bn.onnx');
    assert.equal((await runCli(['export', join(dir, 'b.ckpt'), '--no-fold-bn', '-o', exported])).code, 0);
    const out = join(dir, 'soup-export-bn.onnx');
    const result = await runCli(['average', exported, join(dir, 'a.ckpt'), '--no-fold-bn', '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    const { weights } = readWeightsFile(readFileSync(out));
    for (const [name, expected] of weightedMean(a, b, 0.5)) {
      if (expected.data instanceof Float32Array)
        assert.ok(maxAbsDiff(weights.get(name)!.data as Float32Array, expected.data) < 1e-6, name);
    }
  });

  it('--part gives the tensors under a prefix their own mix', async () => {
    const out = join(dir, 'soup-part-bn.onnx');
    const result = await runCli([
      'average',
      join(dir, 'a.ckpt'),
      join(dir, 'b.ckpt'),
      '--part',
      'classification_headers.0=1,0',
      '--part',
      'base_net.1=1,3',
      '--no-fold-bn',
      '-o',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /b\.ckpt ×1; classification_headers\.0 ×1, ×0; base_net\.1 ×1, ×3/);
    const { weights } = readWeightsFile(readFileSync(out));
    const [half, quarter] = [weightedMean(a, b, 0.5), weightedMean(a, b, 0.25)];
    const parts = { first: 0, quarter: 0, half: 0 };
    for (const [name, tensor] of a) {
      if (!(tensor.data instanceof Float32Array)) continue;
      const [expected, part] = name.startsWith('classification_headers.0.')
        ? [tensor, 'first' as const]
        : name.startsWith('base_net.1.')
          ? [quarter.get(name)!, 'quarter' as const]
          : [half.get(name)!, 'half' as const];
      assert.ok(
        maxAbsDiff(weights.get(name)!.data as Float32Array, expected.data as Float32Array) < 1e-6,
        name,
      );
      parts[part]++;
    }
    assert.ok(parts.first >= 2 && parts.quarter >= 2 && parts.half > 50, JSON.stringify(parts));
  });

  it('refuses a --part without a prefix or with a bad weight list, and one that names no tensor', async () => {
    for (const part of ['=1,0', 'base_net.1=1,x', 'base_net.1', 'base_net.1=1,', 'no_such_layer=1,0']) {
      const result = await runCli([
        'average',
        join(dir, 'a.ckpt'),
        join(dir, 'b.ckpt'),
        '--part',
        part,
        '-o',
        join(dir, 'p.onnx'),
      ]);
      assert.equal(result.code, 1, part);
      assert.match(result.stderr, /E_INVALID_OPTION/, part);
    }
  });

  it('refuses BN-folded exports, a single model and a bad mix', async () => {
    const folded = join(dir, 'folded.onnx');
    assert.equal((await runCli(['export', join(dir, 'a.ckpt'), '-o', folded])).code, 0);
    const mixed = await runCli(['average', join(dir, 'b.ckpt'), folded, '-o', join(dir, 'x.onnx')]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /E_WEIGHTS_MISMATCH: .*--no-fold-bn/);
    const bothFolded = await runCli(['average', folded, folded, '-o', join(dir, 'w.onnx')]);
    assert.equal(bothFolded.code, 1);
    assert.match(bothFolded.stderr, /E_WEIGHTS_MISMATCH: .*folded\.onnx has its BatchNorm folded/);
    const single = await runCli(['average', join(dir, 'a.ckpt'), '-o', join(dir, 'y.onnx')]);
    assert.equal(single.code, 1);
    assert.match(single.stderr, /E_INVALID_OPTION/);
    const badMix = await runCli([
      'average',
      join(dir, 'a.ckpt'),
      join(dir, 'b.ckpt'),
      '--weights',
      '1',
      '-o',
      join(dir, 'z.onnx'),
    ]);
    assert.match(badMix.stderr, /E_INVALID_OPTION/);
  });
});
