/**
 * The wire-format ONNX scan the runtimes share (no protobufjs in the browser bundle) agrees with the protobufjs
 * reader on every kind of model, and its cut of initializer inputs is the reader's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import { decodeOnnx, inspectOnnx, stripInitializerInputs } from '../../src/model/onnx/reader.js';
import { prepareOnnx, scanOnnx } from '../../src/runtime/onnx-scan.js';
import { sharedPath } from '../helpers/shared.js';

const upstream = (file: string): Uint8Array =>
  readFileSync(sharedPath(`reference/upstream/models/onnx/${file}`));

const rfb = upstream('version-RFB-320.onnx');
const models: Record<string, Uint8Array> = {
  'upstream RFB-320 (weights listed as inputs)': rfb,
  'upstream RFB-320 without post-processing': upstream('version-RFB-320_without_postprocessing.onnx'),
  'upstream slim-320 simplified': upstream('version-slim-320_simplified.onnx'),
  'upstream RFB-640': upstream('version-RFB-640.onnx'),
  'ultraface export': convertWeightsToOnnx(rfb).onnx,
  'ultraface export, raw, free size': convertWeightsToOnnx(rfb, {
    postprocess: false,
    dynamicInputSize: true,
  }).onnx,
  'ultraface export, 640': convertWeightsToOnnx(rfb, { inputSize: 640 }).onnx,
};

describe('scanOnnx', () => {
  for (const [name, bytes] of Object.entries(models)) {
    it(`reads what inspectOnnx reads: ${name}`, () => {
      assert.deepEqual(scanOnnx(bytes), inspectOnnx(decodeOnnx(bytes)));
    });
  }

  it('cuts initializer inputs out as stripInitializerInputs does, without touching its argument', () => {
    const copy = rfb.slice();
    const { info, runnable } = prepareOnnx(rfb);
    assert.ok(info.initializerInputs > 0);
    assert.deepEqual(rfb, copy);
    assert.ok(runnable.length < rfb.length);
    const ours = decodeOnnx(runnable);
    const theirs = decodeOnnx(stripInitializerInputs(decodeOnnx(rfb)));
    assert.deepEqual(ours.toJSON(), theirs.toJSON());
    assert.equal(scanOnnx(runnable).initializerInputs, 0);
    const clean = models['ultraface export'];
    assert.equal(prepareOnnx(clean).runnable, clean); // nothing to cut: the same bytes
  });

  it('refuses bytes that are not an ONNX model with one image input', () => {
    const refused = (bytes: Uint8Array, pattern: RegExp): void => {
      assert.throws(
        () => scanOnnx(bytes, 'm.onnx'),
        (e: unknown) => isUltrafaceError(e, 'E_MODEL_LOAD') && pattern.test(e.message),
      );
    };
    refused(new Uint8Array([1, 2, 3, 4, 5]), /Expected an ONNX model in m.onnx but it could not be parsed/);
    const whole = models['ultraface export'];
    refused(whole.subarray(0, whole.length / 2), /could not be parsed/);
    refused(new Uint8Array(0), /found no graph/);
    refused(new Uint8Array([0x08, 0x07]), /found no graph/); // ir_version only
  });
});
