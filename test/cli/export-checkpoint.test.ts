import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createRandom } from '../../src/core/random.js';
import { INPUT_SIZES } from '../../src/core/presets.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import { createModel } from '../../src/model/model.js';
import { buildNetwork } from '../../src/model/network.js';
import { decodeOnnx, inspectOnnx } from '../../src/model/onnx/reader.js';
import { exportOnnx } from '../../src/model/onnx/writer.js';
import type { WeightTensor } from '../../src/model/weights.js';
import { encodeCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { initialWeights } from '../../src/train/init.js';
import { runCli } from '../helpers/cli.js';
import { maxAbsDiff, run, session, syntheticInput } from '../helpers/onnx.js';

/** A tiny stand-in for the trainer's checkpoint: slim weights, momentum buffers, and the JSON state. */
function trainerCheckpoint(config: object): {
  state: object;
  tensors: Map<string, WeightTensor>;
  weights: Map<string, WeightTensor>;
} {
  const weights = initialWeights(buildNetwork('slim'), createRandom(3));
  const tensors = new Map(weights);
  for (const [name, tensor] of weights) {
    if (tensor.data instanceof Float32Array)
      tensors.set(`momentum:${name}`, { shape: tensor.shape, data: tensor.data.map((v) => v * 0.1) });
  }
  const state = { config, position: { epoch: 2, batch: 5 }, step: 41, history: [], bestValidationLoss: null };
  return { state, tensors, weights };
}

const metadataOf = (file: string): ReturnType<typeof inspectOnnx> =>
  inspectOnnx(decodeOnnx(readFileSync(file)));

describe('ultraface export / import from a training checkpoint', () => {
  let dir: string;
  let slim: ReturnType<typeof trainerCheckpoint>;
  let ckpt: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-ckpt-'));
    slim = trainerCheckpoint({ net: 'slim', inputSize: 128, epochs: 3 });
    ckpt = join(dir, 'last.ckpt');
    await saveCheckpoint(ckpt, { state: slim.state, tensors: slim.tensors });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops the momentum buffers and exports the weights at the checkpoint input size', async () => {
    const out = join(dir, 'slim-128.onnx');
    const result = await runCli(['export', ckpt, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Wrote .*slim at 128 input, decoded boxes/);
    const info = metadataOf(out);
    assert.deepEqual(info.inputDims.slice(2), [96, 128]);
    assert.equal(info.metadata?.net, 'slim');
    assert.deepEqual(info.metadata.trainedSize, { width: 128, height: 96 });
    assert.equal(info.metadata.source, 'last.ckpt (ultraface train slim-128, step 41)');

    // Same network outputs as exporting the state dict directly (BN folded both ways: tolerance 0).
    const expected = exportOnnx(createModel(slim.weights, 'slim'), { inputSize: INPUT_SIZES[128] });
    const input = syntheticInput(128, 96);
    const [ours, reference] = [await session(readFileSync(out)), await session(expected)];
    const [a, b] = [await run(ours, input), await run(reference, input)];
    assert.equal(maxAbsDiff(a.scores, b.scores), 0);
    assert.equal(maxAbsDiff(a.boxes, b.boxes), 0);
    await Promise.all([ours.release(), reference.release()]);
  });

  it('--input-size overrides the checkpoint size; import reads checkpoints too, by content', async () => {
    const out = join(dir, 'slim-320.onnx');
    const exported = await runCli(['export', ckpt, '--input-size', '320', '--raw', '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    const info = metadataOf(out);
    assert.deepEqual(info.inputDims.slice(2), [240, 320]);
    assert.equal(info.boxes, 'raw');
    assert.deepEqual(info.metadata?.trainedSize, { width: 128, height: 96 });

    // No .ckpt name: recognised by its first zip entry (tensors/0.bin), not taken for a .pth zip.
    const renamed = join(dir, 'weights.bin');
    writeFileSync(renamed, encodeCheckpoint({ state: slim.state, tensors: slim.tensors }));
    const imported = await runCli(['import', renamed, '--out', join(dir, 'imported.onnx')]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(metadataOf(join(dir, 'imported.onnx')).inputDims.slice(2), [96, 128]);
  });

  it('takes the network from the checkpoint config', async () => {
    const wrongNet = join(dir, 'wrong-net.ckpt');
    await saveCheckpoint(wrongNet, {
      state: { config: { net: 'RFB', inputSize: 128 } },
      tensors: slim.tensors,
    });
    const result = await runCli(['export', wrongNet, '--out', join(dir, 'x.onnx')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_WEIGHTS_MISMATCH/);
  });

  it('refuses truncated, damaged and config-less checkpoints with E_CHECKPOINT', async () => {
    const bytes = readFileSync(ckpt);
    const cases: [string, Uint8Array][] = [
      ['truncated.ckpt', bytes.subarray(0, bytes.length >> 1)],
      ['truncated.zip', bytes.subarray(0, bytes.length >> 1)], // recognised by content
      ['tail-cut.ckpt', bytes.subarray(0, bytes.length - 100)],
      ['garbage.ckpt', new Uint8Array([1, 2, 3])],
      ['empty.ckpt', new Uint8Array()],
      ['no-config.ckpt', encodeCheckpoint({ state: { step: 1 }, tensors: slim.tensors })],
      ['null-state.ckpt', encodeCheckpoint({ state: null, tensors: slim.tensors })],
      [
        'bad-size.ckpt',
        encodeCheckpoint({ state: { config: { net: 'slim', inputSize: 300 } }, tensors: slim.tensors }),
      ],
    ];
    for (const [name, content] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      const out = join(dir, `${name}.onnx`);
      const result = await runCli(['export', file, '--out', out]);
      assert.equal(result.code, 1, name);
      assert.match(result.stderr, new RegExp(`E_CHECKPOINT: .*${name.replace('.', '\\.')}`), name);
    }
  });

  it('convertWeightsToOnnx takes an in-memory state dict with its network', () => {
    const { onnx, model, inputSize } = convertWeightsToOnnx(
      { weights: slim.weights, net: 'slim' },
      { trainedSize: 160 },
    );
    assert.equal(model.version, 'slim');
    assert.equal(inputSize, 160);
    assert.deepEqual(inspectOnnx(decodeOnnx(onnx)).inputDims.slice(2), [120, 160]);
    assert.throws(() => convertWeightsToOnnx({ weights: slim.tensors, net: 'slim' }), {
      code: 'E_WEIGHTS_MISMATCH', // momentum buffers are not weights
    });
  });
});
