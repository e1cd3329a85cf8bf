import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import * as ort from 'onnxruntime-node';

import { toInputTensor } from '../../src/core/image.js';
import { INPUT_SIZES, type InputSizeName } from '../../src/core/presets.js';
import { generatePriors } from '../../src/core/priors.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import { readWeightsFile } from '../../src/model/import/weights-file.js';
import { createModel } from '../../src/model/model.js';
import { decodeOnnx, inspectOnnx } from '../../src/model/onnx/reader.js';
import { exportOnnx } from '../../src/model/onnx/writer.js';
import { toNumber } from '../../src/model/onnx/proto.js';
import { preprocess } from '../../src/runtime/node/image.js';
import { maxAbsDiff, run, session, syntheticInput } from '../helpers/onnx.js';
import { sharedPath } from '../helpers/shared.js';

const upstream = (file: string): Uint8Array =>
  readFileSync(sharedPath(`reference/upstream/models/onnx/${file}`));

interface SyntheticGolden {
  scores_first3: number[][];
  boxes_first3: number[][];
  argmax_face_score: number;
  sum_face_scores: number;
}
const vectors = JSON.parse(readFileSync(sharedPath('reference/vectors.json'), 'utf8')) as {
  synthetic_pattern_240x320: { models: Record<string, SyntheticGolden> };
};

const CASES: { file: string; size: InputSizeName }[] = [
  { file: 'version-RFB-320.onnx', size: 320 },
  { file: 'version-slim-320.onnx', size: 320 },
  { file: 'version-RFB-640.onnx', size: 640 },
];

describe('ONNX export with imported upstream weights', () => {
  for (const { file, size } of CASES) {
    const { width, height } = INPUT_SIZES[size];
    const input = syntheticInput(width, height);
    const model = createModel(readWeightsFile(upstream(file)).weights);

    for (const foldBatchNorm of [true, false]) {
      it(`${file}, BN ${foldBatchNorm ? 'folded' : 'kept'}: scores and boxes within 1e-4 of upstream`, async () => {
        const ours = await session(exportOnnx(model, { inputSize: INPUT_SIZES[size], foldBatchNorm }));
        const reference = await session(upstream(file));
        const a = await run(ours, input);
        const b = await run(reference, input);
        assert.ok(maxAbsDiff(a.scores, b.scores) <= 1e-4, `scores Δ ${maxAbsDiff(a.scores, b.scores)}`);
        assert.ok(maxAbsDiff(a.boxes, b.boxes) <= 1e-4, `boxes Δ ${maxAbsDiff(a.boxes, b.boxes)}`);
      });
    }
  }

  it('on the 24 upstream images: scores and boxes within 1e-4 of upstream for RFB-320, slim-320, RFB-640', async () => {
    const names = readdirSync(sharedPath('reference/upstream/imgs')).filter((f) => f.endsWith('.jpg'));
    for (const { file, size } of CASES) {
      const { width, height } = INPUT_SIZES[size];
      const ours = await session(convertWeightsToOnnx(upstream(file)).onnx);
      const reference = await session(upstream(file));
      let worst = 0;
      for (const name of names) {
        const { image } = await preprocess(sharedPath(`reference/upstream/imgs/${name}`), {
          width,
          height,
          maxPixels: 1e8,
        });
        const data = new Float32Array(3 * width * height);
        toInputTensor(image, data, 0);
        const input = new ort.Tensor('float32', data, [1, 3, height, width]);
        const [a, b] = [await run(ours, input), await run(reference, input)];
        worst = Math.max(worst, maxAbsDiff(a.scores, b.scores), maxAbsDiff(a.boxes, b.boxes));
      }
      assert.ok(worst <= 1e-4, `${file}: max |Δ| ${worst}`);
    }
  });

  for (const net of ['RFB', 'slim'] as const) {
    it(`${net}-320 raw export matches upstream _without_postprocessing and the SPEC §13 vectors`, async () => {
      const model = createModel(readWeightsFile(upstream(`version-${net}-320.onnx`)).weights);
      const input = syntheticInput(320, 240);
      const ours = await run(
        await session(exportOnnx(model, { inputSize: INPUT_SIZES[320], postprocess: false })),
        input,
      );
      const reference = await run(
        await session(upstream(`version-${net}-320_without_postprocessing.onnx`)),
        input,
      );
      assert.ok(maxAbsDiff(ours.boxes, reference.boxes) <= 1e-4);
      assert.ok(maxAbsDiff(ours.scores, reference.scores) <= 1e-4);

      const golden =
        vectors.synthetic_pattern_240x320.models[`version-${net}-320_without_postprocessing.onnx`];
      assert.ok(maxAbsDiff(ours.scores.subarray(0, 6), golden.scores_first3.flat()) <= 1e-6);
      assert.ok(maxAbsDiff(ours.boxes.subarray(0, 12), golden.boxes_first3.flat()) <= 1e-5);
      const faces = Array.from({ length: ours.scores.length / 2 }, (_, p) => ours.scores[2 * p + 1]);
      assert.equal(faces.indexOf(Math.max(...faces)), golden.argmax_face_score);
      assert.ok(Math.abs(faces.reduce((a, b) => a + b, 0) - golden.sum_face_scores) < 1e-3);
    });
  }

  it('embeds priors bit-identical to the constants inside the upstream graphs', () => {
    for (const { file, size } of CASES) {
      const constants = decodeOnnx(upstream(file))
        .graph!.node!.filter((n) => n.opType === 'Constant')
        .map((n) => n.attribute![0].t!)
        .filter((t) => t.dims!.length === 3 && toNumber(t.dims![2]) === 2);
      const values = constants.map((t) => new Float32Array(new Uint8Array(t.rawData!).buffer));
      const priors = generatePriors(INPUT_SIZES[size]);
      const centers = priors.filter((_, i) => i % 4 < 2);
      const sizes = priors.filter((_, i) => i % 4 >= 2);
      assert.ok(
        values.some((v) => maxAbsDiff(v, centers) === 0),
        `${file}: centers`,
      );
      assert.ok(
        values.some((v) => maxAbsDiff(v, sizes) === 0),
        `${file}: sizes`,
      );
    }
  });

  it('writes a dynamic batch, weights as initializers only, opset 17 and ultraface metadata', async () => {
    const { onnx } = convertWeightsToOnnx(upstream('version-RFB-320.onnx'));
    const proto = decodeOnnx(onnx);
    const info = inspectOnnx(proto);
    assert.deepEqual(info.inputDims, ['batch', 3, 240, 320]);
    assert.equal(info.initializerInputs, 0);
    assert.equal(toNumber(proto.opsetImport[0].version), 17);
    assert.equal(info.metadata?.net, 'RFB');
    assert.equal(info.boxes, 'decoded');

    const s = await session(onnx);
    const one = syntheticInput(320, 240);
    const two = new ort.Tensor(
      'float32',
      new Float32Array([...(one.data as Float32Array), ...(one.data as Float32Array)]),
      [2, 3, 240, 320],
    );
    const single = await run(s, one);
    const batch = await run(s, two);
    assert.ok(maxAbsDiff(batch.scores.subarray(single.scores.length), single.scores) <= 1e-6);
    assert.ok(maxAbsDiff(batch.boxes.subarray(0, single.boxes.length), single.boxes) <= 1e-6);
  });

  it('re-imports its own BN-folded export losslessly (export → import → export)', async () => {
    const first = convertWeightsToOnnx(upstream('version-slim-320.onnx')).onnx;
    const second = convertWeightsToOnnx(first, { inputSize: 640 }).onnx;
    const third = convertWeightsToOnnx(second, { inputSize: 320 }).onnx;
    const input = syntheticInput(320, 240);
    const a = await run(await session(first), input);
    const b = await run(await session(third), input);
    assert.ok(maxAbsDiff(a.scores, b.scores) <= 1e-5);
    assert.ok(maxAbsDiff(a.boxes, b.boxes) <= 1e-5);
    assert.deepEqual(inspectOnnx(decodeOnnx(second)).metadata?.trainedSize, { width: 320, height: 240 });
  });
});
