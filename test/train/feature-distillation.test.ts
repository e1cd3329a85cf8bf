import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import * as ort from 'onnxruntime-node';

import { OnnxGraphBuilder } from '../../src/model/onnx/builder.js';
import { DEFAULT_GRADIENT_VARIANTS, EmitContext } from '../../src/train/autodiff/context.js';
import { emitFeatureDistillation } from '../../src/train/loss.js';
import { relativeL2 } from './helpers/fixture.js';
import { finiteDifferences, random } from './helpers/reference.js';

/**
 * The attention-transfer term (loss.ts `emitFeatureDistillation`) against a float64 reference: the value within
 * 1e-5 (relative), the gradient seeded into the backward pass vs central finite differences within 1e-3.
 */

const [N, C, H, W] = [2, 3, 4, 5];
const WEIGHT = 7;
const SCALE = 0.25;

/** Σ_n ‖a_s/‖a_s‖ − a_t/‖a_t‖‖² · weight · scale with a = Σ_c F², in float64. */
function attentionLoss64(student: Float64Array, teacher: Float64Array): number {
  const plane = H * W;
  const normalized = (f: Float64Array, n: number): Float64Array => {
    const a = new Float64Array(plane);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < plane; i++) a[i] += f[(n * C + c) * plane + i] ** 2;
    }
    const norm = Math.sqrt(a.reduce((sum, v) => sum + v * v, 0) + 1e-12);
    return a.map((v) => v / norm);
  };
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const s = normalized(student, n);
    const t = normalized(teacher, n);
    for (let i = 0; i < plane; i++) loss += (s[i] - t[i]) ** 2;
  }
  return loss * WEIGHT * SCALE;
}

describe('feature distillation (attention transfer)', () => {
  let session: ort.InferenceSession;
  before(async () => {
    const b = new OnnxGraphBuilder();
    const ctx = new EmitContext(b, 'dynamic', DEFAULT_GRADIENT_VARIANTS, 'student');
    b.input('student', ['n', C, H, W]);
    b.input('teacher', ['n', C, H, W]);
    b.input('scale', []);
    const term = emitFeatureDistillation(
      ctx,
      { student: 'student', teacher: 'teacher', scale: 'scale', weight: WEIGHT },
      true,
    );
    b.node('Identity', [term.loss], 'loss');
    b.output('loss', []);
    b.node('Identity', [term.gradient!], 'gradient');
    b.output('gradient', ['n', C, H, W]);
    session = await ort.InferenceSession.create(b.build({ name: 'at-test', opset: 17 }));
  });
  after(async () => {
    await session.release();
  });

  const run = async (student: Float64Array, teacher: Float64Array) => {
    const shape = [N, C, H, W];
    const out = await session.run({
      student: new ort.Tensor('float32', Float32Array.from(student), shape),
      teacher: new ort.Tensor('float32', Float32Array.from(teacher), shape),
      scale: new ort.Tensor('float32', Float32Array.from([SCALE]), []),
    });
    return { loss: (out.loss.data as Float32Array)[0], gradient: out.gradient.data as Float32Array };
  };

  it('matches the float64 value and its finite-difference gradient', async () => {
    const r = random(31);
    // Post-ReLU-like feature maps: non-negative, some exact zeros.
    const student = Float64Array.from({ length: N * C * H * W }, () => Math.max(0, r(-0.3, 1)));
    const teacher = Float64Array.from({ length: N * C * H * W }, () => Math.max(0, r(-0.3, 1)));
    const { loss, gradient } = await run(student, teacher);
    const expected = attentionLoss64(student, teacher);
    assert.ok(Math.abs(loss - expected) <= 1e-5 * expected, `${loss} vs ${expected}`);
    const numeric = finiteDifferences(student, () => attentionLoss64(student, teacher), 1e-6);
    assert.ok(relativeL2(gradient, numeric) < 1e-3, `relative L2 ${relativeL2(gradient, numeric)}`);
  });

  it('is zero, with a zero gradient, when the student attends where the teacher does at any channel scale', async () => {
    const r = random(5);
    const teacher = Float64Array.from({ length: N * C * H * W }, () => Math.max(0, r(-0.3, 1)));
    // Twice the teacher: the same attention map once normalized.
    const { loss, gradient } = await run(
      teacher.map((v) => 2 * v),
      teacher,
    );
    assert.ok(Math.abs(loss) < 1e-9, `${loss}`);
    assert.ok(
      gradient.every((g) => Math.abs(g) < 1e-6),
      'zero gradient',
    );
  });
});
