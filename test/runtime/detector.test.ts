import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { iou } from '../../src/core/boxes.js';
import { isUltrafaceError } from '../../src/core/errors.js';
import type { Detection } from '../../src/core/postprocess.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import {
  createFaceDetector,
  DEFAULT_MODEL_PATH,
  readDefaultModel,
  type FaceDetector,
} from '../../src/runtime/node/detector.js';
import { sharedPath } from '../helpers/shared.js';
import { imagePath, referenceImages, type ReferenceRow } from '../helpers/vectors.js';

const upstreamOnnx = (file: string): Uint8Array =>
  readFileSync(sharedPath(`reference/upstream/models/onnx/${file}`));
const names = Object.keys(referenceImages);

interface Agreement {
  countMismatches: string[];
  worstIou: number;
  worstScoreDelta: number;
}

/** Pairs each reference face with our best-overlapping one; `truncate` mimics the scripts' int32 boxes. */
function compare(
  ours: Detection[][],
  key:
    'onnx_RFB_320_detections' | 'onnx_slim_320_detections' | 'pytorch_detect_imgs_default_RFB_640_detections',
  truncate: boolean,
): Agreement {
  const result: Agreement = { countMismatches: [], worstIou: 1, worstScoreDelta: 0 };
  names.forEach((name, i) => {
    const reference: ReferenceRow[] = referenceImages[name][key];
    const found = ours[i];
    if (found.length !== reference.length)
      result.countMismatches.push(`${name}: ${found.length} vs ${reference.length}`);
    for (const [x1, y1, x2, y2, score] of reference) {
      let best = { overlap: -1, score: 0 };
      for (const d of found) {
        const t = truncate ? Math.trunc : (v: number): number => v;
        const box = { x1: t(d.box.x1), y1: t(d.box.y1), x2: t(d.box.x2), y2: t(d.box.y2) };
        const overlap = iou(box, { x1, y1, x2, y2 });
        if (overlap > best.overlap) best = { overlap, score: d.score };
      }
      result.worstIou = Math.min(result.worstIou, best.overlap);
      result.worstScoreDelta = Math.max(result.worstScoreDelta, Math.abs(best.score - score));
    }
  });
  return result;
}

describe('createFaceDetector on the 24 upstream images (SPEC §8.5 detect_imgs_onnx.py settings)', () => {
  const detectors: FaceDetector[] = [];
  after(async () => {
    await Promise.all(detectors.map((d) => d.dispose()));
  });
  // decode 'full': upstream's pixels (every JPEG pixel decoded, as OpenCV does), which the vectors were made from.
  const make = async (model: Uint8Array, options: object = {}): Promise<FaceDetector> => {
    const detector = await createFaceDetector({
      model,
      scoreThreshold: 0.7,
      candidateSize: 200,
      decode: 'full',
      ...options,
    });
    detectors.push(detector);
    return detector;
  };

  for (const net of ['RFB', 'slim'] as const) {
    const key = net === 'RFB' ? 'onnx_RFB_320_detections' : 'onnx_slim_320_detections';
    for (const variant of ['upstream file', 'ultraface export'] as const) {
      it(`${net}-320 (${variant}) matches vectors.json`, async () => {
        const file = upstreamOnnx(`version-${net}-320.onnx`);
        const detector = await make(variant === 'upstream file' ? file : convertWeightsToOnnx(file).onnx);
        const ours = await detector.detectBatch(names.map(imagePath));
        const agreement = compare(ours, key, true);
        assert.deepEqual(agreement.countMismatches, []);
        assert.ok(agreement.worstIou >= 0.9, `worst IoU ${agreement.worstIou}`);
        assert.ok(agreement.worstScoreDelta <= 0.02, `worst |Δscore| ${agreement.worstScoreDelta}`);
      });
    }
  }

  it('RFB 320 weights at a 640x480 input (detect_imgs.py defaults) match vectors.json', async () => {
    const onnx = convertWeightsToOnnx(upstreamOnnx('version-RFB-320.onnx'), { inputSize: 640 }).onnx;
    const detector = await make(onnx, { scoreThreshold: 0.6, candidateSize: 1500, topK: 750 });
    const agreement = compare(
      await detector.detectBatch(names.map(imagePath)),
      'pytorch_detect_imgs_default_RFB_640_detections',
      false,
    );
    assert.deepEqual(agreement.countMismatches, []);
    assert.ok(agreement.worstIou >= 0.9, `worst IoU ${agreement.worstIou}`);
    assert.ok(agreement.worstScoreDelta <= 0.02, `worst |Δscore| ${agreement.worstScoreDelta}`);
  });

  it('raw-regression models are decoded by the runtime to the same faces', async () => {
    const file = upstreamOnnx('version-RFB-320.onnx');
    const decoded = await make(convertWeightsToOnnx(file).onnx);
    const raw = await make(convertWeightsToOnnx(file, { postprocess: false }).onnx);
    assert.equal(raw.model.boxes, 'raw');
    for (const name of names.slice(0, 4)) {
      const a = await decoded.detect(imagePath(name));
      const b = await raw.detect(imagePath(name));
      assert.equal(a.length, b.length);
      a.forEach((d, k) => {
        assert.ok(iou(d.box, b[k].box) > 0.999);
      });
    }
  });

  it('keeps the aspect ratio on a model with free input size ({ longestSide }, original)', async () => {
    const file = upstreamOnnx('version-RFB-320.onnx');
    const fixed = await make(convertWeightsToOnnx(file).onnx);
    const dynamic = convertWeightsToOnnx(file, { postprocess: false, dynamicInputSize: true }).onnx;
    const fitted = await make(dynamic, { resize: { longestSide: 320 } });
    assert.equal(fitted.model.dynamicSize, true);
    // 1024x768 photos fit 320x240 exactly, so both paths see the same pixels.
    for (const name of ['3.jpg', '9.jpg']) {
      const a = await fixed.detect(imagePath(name));
      const b = await fitted.detect(imagePath(name));
      assert.equal(b.length, a.length);
      b.forEach((d, k) => {
        assert.ok(iou(d.box, a[k].box) > 0.999 && Math.abs(d.score - a[k].score) < 1e-5);
      });
    }
    const original = await make(dynamic, { resize: 'original' });
    const [small, large] = await original.detectBatch([imagePath('13.jpg'), imagePath('17.jpg')]);
    assert.ok(small.length > 0 && large.length > 0);
    await assert.rejects(
      createFaceDetector({ model: convertWeightsToOnnx(file).onnx, resize: 'original' }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION') && /--dynamic-size/.test(e.message),
    );
  });

  it('detect and detectBatch agree; raw RGB input gives the same faces as the file', async () => {
    const detector = await make(upstreamOnnx('version-RFB-320.onnx'));
    const single = await detector.detect(imagePath('1.jpg'));
    const [batched] = await detector.detectBatch([imagePath('1.jpg')]);
    assert.deepEqual(single, batched);
    assert.equal(single.length, referenceImages['1.jpg'].onnx_RFB_320_detections.length);
    const { data, info } = await sharp(imagePath('1.jpg')).raw().toBuffer({ resolveWithObject: true });
    const raw = await detector.detect({ data, width: info.width, height: info.height, channels: 3 });
    assert.deepEqual(raw, single);
  });
});

describe("createFaceDetector decode 'scaled' (the default) against 'full'", () => {
  const model = (): Uint8Array => convertWeightsToOnnx(upstreamOnnx('version-RFB-320.onnx')).onnx;
  const pair = async (): Promise<[FaceDetector, FaceDetector]> => {
    const settings = { model: model(), scoreThreshold: 0.7, candidateSize: 200 };
    return [await createFaceDetector({ ...settings, decode: 'full' }), await createFaceDetector(settings)];
  };

  it("decodes upstream's 24 test images (≤ 1600 px) in full at 320x240: the same faces", async () => {
    const [full, scaled] = await pair();
    try {
      const files = names.map(imagePath);
      assert.deepEqual(await scaled.detectBatch(files), await full.detectBatch(files));
    } finally {
      await Promise.all([full.dispose(), scaled.dispose()]);
    }
  });

  it('decodes a 2048 px photo at 1/2 and finds the faces full decoding finds, from a path and bytes alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultraface-scaled-'));
    const [full, scaled] = await pair();
    try {
      // 25.jpg (a group photo, 1024 x 675) enlarged 2x: its 1/2 decode (1024 x 675) still has 2x the input.
      const big = join(dir, 'group-2048.jpg');
      await sharp(imagePath('25.jpg')).resize(2048, 1350).jpeg({ quality: 95 }).toFile(big);
      const exact = await full.detect(big);
      const fromPath = await scaled.detect(big);
      assert.deepEqual(await scaled.detect(readFileSync(big)), fromPath);
      const matched = exact.filter((face) => fromPath.some((d) => iou(d.box, face.box) >= 0.7)).length;
      assert.ok(exact.length >= 100, `${exact.length} faces in full decoding`);
      assert.ok(matched >= 0.9 * exact.length, `${matched} of ${exact.length} faces matched at IoU ≥ 0.7`);
      assert.ok(Math.abs(fromPath.length - exact.length) <= 0.1 * exact.length);
    } finally {
      await Promise.all([full.dispose(), scaled.dispose()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createFaceDetector errors', () => {
  let model: Uint8Array;
  before(() => {
    model = convertWeightsToOnnx(upstreamOnnx('version-slim-320.onnx')).onnx;
  });

  const rejects = async (promise: Promise<unknown>, code: string): Promise<void> => {
    await assert.rejects(promise, (e: unknown) => isUltrafaceError(e) && e.code === code);
  };

  it('says how to get a model when none is given and the shipped default is missing', async () => {
    const missing = join(dirname(DEFAULT_MODEL_PATH), 'no-such-model.onnx');
    await assert.rejects(
      readDefaultModel(missing),
      (e: unknown) =>
        isUltrafaceError(e, 'E_MODEL_MISSING') &&
        e.message.includes(missing) &&
        /import --upstream RFB-320/.test(e.message),
    );
  });
  it('rejects bad options with the standard message', async () => {
    await assert.rejects(
      createFaceDetector({ model, scoreThreshold: 1.5 }),
      (e: unknown) =>
        isUltrafaceError(e, 'E_INVALID_OPTION') &&
        e.message === 'Expected a number between 0 and 1 for scoreThreshold but received 1.5',
    );
    await rejects(createFaceDetector({ model, threads: 0 }), 'E_INVALID_OPTION');
    await rejects(createFaceDetector({ model, inputSize: 300 as 320 }), 'E_INVALID_OPTION');
    await rejects(createFaceDetector({ model, treshold: 0.5 } as object), 'E_INVALID_OPTION');
    await rejects(createFaceDetector({ model, inputSize: 640 }), 'E_INVALID_OPTION'); // fixed 320 graph
    await rejects(createFaceDetector({ model, decode: 'fast' as 'full' }), 'E_INVALID_OPTION');
  });
  it('rejects missing and malformed model files', async () => {
    await rejects(createFaceDetector({ model: '/nonexistent/model.onnx' }), 'E_FILE_NOT_FOUND');
    await rejects(createFaceDetector({ model: new Uint8Array([1, 2, 3, 4, 5]) }), 'E_MODEL_LOAD');
    await rejects(createFaceDetector({ model: model.subarray(0, model.length / 2) }), 'E_MODEL_LOAD');
  });
  it('refuses use after dispose', async () => {
    const detector = await createFaceDetector({ model });
    await detector.dispose();
    await rejects(detector.detect(imagePath('1.jpg')), 'E_DISPOSED');
    await detector.dispose(); // idempotent
  });
});
