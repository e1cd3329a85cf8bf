/**
 * Issue #6 acceptance (about 30 s per method on 2 cores). The default method runs in the suite; measure others with
 *
 *   ULTRAFACE_INT8_ACCURACY=minmax,percentile,entropy node --import tsx --test test/quantize/accuracy.test.ts
 *
 * Upstream RFB-320 (fp32) vs its int8 model calibrated on 100 faces-voc trainval images: WIDER-mini easy / medium /
 * hard AP (ulfd protocol) and faces-voc test AP50 must each stay within 0.01 of fp32.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { runVocEvaluation, runWiderEvaluation } from '../../src/eval/run.js';
import { quantizeModel } from '../../src/quantize/quantize.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../../src/quantize/ranges.js';
import { sharedPath } from '../helpers/shared.js';

const methods = (process.env.ULTRAFACE_INT8_ACCURACY ?? 'minmax').split(',') as CalibrationMethod[];
const TOLERANCE = 0.01;

async function figures(model: Uint8Array): Promise<Record<string, number>> {
  const wider = await runWiderEvaluation({ model, root: sharedPath('data/widerface-mini') });
  const voc = await runVocEvaluation({ model, root: sharedPath('data/faces-voc') });
  return {
    easy: wider.evaluation.easy.ap,
    medium: wider.evaluation.medium.ap,
    hard: wider.evaluation.hard.ap,
    voc: voc.result.ap,
  };
}

describe('int8 accuracy vs fp32 (upstream RFB-320)', () => {
  const model = readFileSync(sharedPath('reference/upstream/models/onnx/version-RFB-320.onnx'));
  let fp32: Record<string, number> | undefined;

  for (const method of methods) {
    it(`${method}: every AP within ${TOLERANCE} of fp32`, async (t) => {
      assert.ok(CALIBRATION_METHODS.includes(method), `unknown method ${method}`);
      fp32 ??= await figures(model);
      const { onnx, report } = await quantizeModel({
        model,
        calibration: sharedPath('data/faces-voc'),
        method,
      });
      const int8 = await figures(onnx);
      const row = (label: string, f: Record<string, number>): string =>
        `${label.padEnd(12)} ${['easy', 'medium', 'hard', 'voc'].map((k) => f[k].toFixed(4)).join('  ')}`;
      t.diagnostic(`             easy    medium  hard    VOC AP50`);
      t.diagnostic(row('fp32', fp32));
      t.diagnostic(row(`int8 ${method}`, int8));
      t.diagnostic(`int8 ${report.int8Bytes} bytes, agreement ${JSON.stringify(report.agreement)}`);
      for (const key of Object.keys(fp32)) {
        assert.ok(
          Math.abs(int8[key] - fp32[key]) <= TOLERANCE,
          `${key}: int8 ${int8[key].toFixed(4)} vs fp32 ${fp32[key].toFixed(4)}`,
        );
      }
    });
  }
});
