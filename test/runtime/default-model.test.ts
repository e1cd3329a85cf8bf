import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';

import { iou } from '../../src/core/boxes.js';
import type { Detection } from '../../src/core/postprocess.js';
import { countRecovered } from '../../src/eval/face-recall.js';
import { decodeOnnx, inspectOnnx } from '../../src/model/onnx/reader.js';
import { BUNDLED_MODELS } from '../../src/runtime/node/bundled-models.js';
import {
  createFaceDetector,
  DEFAULT_MODEL_PATH,
  type FaceDetector,
} from '../../src/runtime/node/detector.js';
import { PACKAGE_ROOT, sharedPath } from '../helpers/shared.js';
import { imagePath } from '../helpers/vectors.js';

/**
 * Upstream test photos with clearly visible, mostly frontal faces of 85–184 px (source pixels), i.e. 27–58 px at
 * the 320x240 network input: 4 nurses on white (2.jpg), one woman at a desk (5.jpg), 8 children in a group
 * (9.jpg), 3 people in scrubs (23.jpg).
 */
const IMAGES = ['2.jpg', '5.jpg', '9.jpg', '23.jpg'];
/** Upstream detections this confident are faces our default must find too. */
const UPSTREAM_MIN_SCORE = 0.9;
const MIN_IOU = 0.5;

/**
 * Upstream's group photos (crowds; issue #15): the default must recover 80 % of the faces upstream's RFB-320 finds
 * on each (same pipeline and defaults, matched one to one at IoU ≥ 0.5 by `countRecovered`). Measured 100, 96, 89,
 * 82, 100 and 99 % (models/README.md, Accuracy); the tightest, 25.jpg, is 110 of 134 faces, two over the 108 that
 * 80 % needs, and none of its matches lies within 0.002 of IoU 0.5 or 0.001 of score 0.7, so float differences
 * between CPUs cannot flip it. A new default ships only once it meets the target on every photo.
 */
const GROUP_TARGET = 0.8;
const GROUP_PHOTOS = ['1.jpg', '8.jpg', '17.jpg', '25.jpg', '26.jpg', '27.jpg'];

describe('the shipped default model (models/ultraface-rfb-320.onnx)', () => {
  let upstream: FaceDetector;
  let ours: FaceDetector;
  before(async () => {
    upstream = await createFaceDetector({
      model: sharedPath('reference/upstream/models/onnx/version-RFB-320.onnx'),
    });
    ours = await createFaceDetector();
  });
  after(async () => {
    await Promise.all([upstream.dispose(), ours.dispose()]);
  });

  it('is in models/, three levels above src/runtime/node/ (and dist/runtime/node/)', () => {
    assert.equal(DEFAULT_MODEL_PATH, join(PACKAGE_ROOT, 'models', 'ultraface-rfb-320.onnx'));
    assert.ok(existsSync(DEFAULT_MODEL_PATH), `${DEFAULT_MODEL_PATH} is missing`);
    const files = (
      JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[] }
    ).files;
    assert.ok(files.includes('models'), 'package.json "files" must ship models/');
  });

  it('is RFB-320, fp32, BatchNorm folded, boxes decoded in the graph (exportOnnx defaults)', () => {
    assertExportDefaults(DEFAULT_MODEL_PATH, 'RFB', [320, 240]);
  });

  it('createFaceDetector() and createFaceDetector({}) load it', async () => {
    assert.equal(ours.model.net, 'RFB');
    assert.deepEqual([ours.model.inputSize.width, ours.model.inputSize.height], [320, 240]);
    const again = await createFaceDetector({});
    try {
      assert.deepEqual(await again.detect(imagePath('5.jpg')), await ours.detect(imagePath('5.jpg')));
    } finally {
      await again.dispose();
    }
  });

  it('ships a variant without box decoding (ultraface-rfb-320-raw.onnx) that detects the same faces', async () => {
    const rawPath = BUNDLED_MODELS['rfb-320-raw'];
    assert.equal(inspectOnnx(decodeOnnx(readFileSync(rawPath))).boxes, 'raw');
    const raw = await createFaceDetector({ model: rawPath });
    try {
      for (const name of IMAGES) {
        const [expected, actual] = [await ours.detect(imagePath(name)), await raw.detect(imagePath(name))];
        assert.equal(actual.length, expected.length, name);
        actual.forEach((d, i) => {
          assert.ok(Math.abs(d.score - expected[i].score) <= 1e-6, `${name} #${i} score`);
          for (const key of ['x1', 'y1', 'x2', 'y2'] as const)
            assert.ok(Math.abs(d.box[key] - expected[i].box[key]) <= 1e-2, `${name} #${i} ${key}`);
        });
      }
    } finally {
      await raw.dispose();
    }
  });

  for (const name of IMAGES) {
    it(`finds every upstream RFB-320 face (score >= ${UPSTREAM_MIN_SCORE}) at IoU >= ${MIN_IOU} in ${name}`, async (t) => {
      await assertFindsUpstreamFaces(t, upstream, ours, name);
    });
  }

  for (const name of GROUP_PHOTOS) {
    it(`group photo ${name}: recovers >= ${Math.round(GROUP_TARGET * 100)} % of the faces upstream RFB-320 finds (issue #15)`, async (t) => {
      const reference = await upstream.detect(imagePath(name));
      const found = await ours.detect(imagePath(name));
      const recovered = countRecovered(reference, found);
      const summary = `${name}: ${recovered} of upstream's ${reference.length} faces, ${found.length} found`;
      t.diagnostic(summary);
      assert.ok(reference.length >= 40, `upstream finds only ${reference.length} faces in ${name}`);
      assert.ok(recovered >= GROUP_TARGET * reference.length, summary);
    });
  }
});

/** The other bundled models against upstream's model of the same network and input size. */
const OTHERS = [
  { name: 'slim-320', net: 'slim', size: [320, 240], upstream: 'version-slim-320.onnx' },
  { name: 'rfb-640', net: 'RFB', size: [640, 480], upstream: 'version-RFB-640.onnx' },
] as const;

for (const other of OTHERS) {
  describe(`the bundled ${other.name} model (BUNDLED_MODELS['${other.name}'])`, () => {
    let upstream: FaceDetector;
    let ours: FaceDetector;
    before(async () => {
      upstream = await createFaceDetector({
        model: sharedPath(`reference/upstream/models/onnx/${other.upstream}`),
      });
      ours = await createFaceDetector({ model: BUNDLED_MODELS[other.name] });
    });
    after(async () => {
      await Promise.all([upstream.dispose(), ours.dispose()]);
    });

    it(`is ${other.net} at ${other.size.join('x')}, fp32, BatchNorm folded, boxes decoded in the graph`, () => {
      assertExportDefaults(BUNDLED_MODELS[other.name], other.net, other.size);
    });

    for (const name of IMAGES) {
      it(`finds every face upstream's ${other.name} finds (score >= ${UPSTREAM_MIN_SCORE}) at IoU >= ${MIN_IOU} in ${name}`, async (t) => {
        await assertFindsUpstreamFaces(t, upstream, ours, name);
      });
    }
  });
}

/** What `exportOnnx` writes by default: fp32, BatchNorm folded into the convs, box decoding in the graph. */
function assertExportDefaults(path: string, net: string, [width, height]: readonly [number, number]): void {
  const model = decodeOnnx(readFileSync(path));
  const info = inspectOnnx(model);
  assert.equal(info.metadata?.net, net);
  assert.deepEqual(info.inputDims.slice(2), [height, width]);
  assert.equal(info.boxes, 'decoded');
  const ops = new Set((model.graph?.node ?? []).map((n) => n.opType));
  for (const op of ['BatchNormalization', 'QuantizeLinear', 'DequantizeLinear'])
    assert.ok(!ops.has(op), `unexpected ${op}`);
}

async function assertFindsUpstreamFaces(
  t: TestContext,
  upstream: FaceDetector,
  ours: FaceDetector,
  name: string,
): Promise<void> {
  const reference = (await upstream.detect(imagePath(name))).filter((d) => d.score >= UPSTREAM_MIN_SCORE);
  const found: Detection[] = await ours.detect(imagePath(name));
  const best = reference.map((r) => Math.max(0, ...found.map((d) => iou(r.box, d.box))));
  const matched = best.filter((overlap) => overlap >= MIN_IOU).length;
  const summary =
    `${name}: matched ${matched}/${reference.length} upstream faces; ours found ${found.length}; ` +
    `best IoU per upstream face: ${best.map((v) => v.toFixed(2)).join(' ')}`;
  t.diagnostic(summary);
  assert.ok(reference.length > 0, `${name}: upstream finds no face`);
  assert.equal(matched, reference.length, summary);
}
