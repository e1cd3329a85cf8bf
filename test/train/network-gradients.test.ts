import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { readWeightsFile } from '../../src/model/import/weights-file.js';
import { createModel } from '../../src/model/model.js';
import {
  batchMeanOutput,
  batchVarianceOutput,
  compileTrainingGraph,
  gradientOutput,
  LOSS_CLASSIFICATION_OUTPUT,
  LOSS_REGRESSION_OUTPUT,
  type GradientVariants,
} from '../../src/train/compile.js';
import { sharedPath } from '../helpers/shared.js';
import {
  fixtureGtLocations,
  fixtureImage,
  fixtureLabels,
  l2,
  loadTrainFixture,
  relativeL2,
  sampled,
} from './helpers/fixture.js';
import { floats, scalar, trainingFeeds, trainingSession } from './helpers/session.js';

/**
 * Whole-network check against PyTorch (float64, test/fixtures/train, scripts/fixtures/make-train-fixture.py):
 * upstream weights, 128x96, batch 2, one training step. Measure: relative L2 error per tensor,
 * ‖ours − ref‖₂ / ‖ref‖₂, over the whole tensor, or over its stored strided sample of 2048 entries for tensors
 * over 8192 entries (then also |‖ours‖ − ‖ref‖| / ‖ref‖ over the whole tensor). Tolerance 1e-3.
 * Exceptions, stated: gradients that vanish in exact arithmetic (RFB branch-output BN biases, cancelled by the
 * ConvLinear BN's mean) are checked absolutely, ‖g‖ ≤ 1e-6·‖∇L‖; batch means are compared relative to the
 * channel spread, ‖Δmean‖ / max(‖mean‖, ‖√var‖) (the ConvLinear BN's input mean is ~1e-7 by the same cancellation).
 */

const TOLERANCE = 1e-3;

const CASES: { net: 'slim' | 'RFB'; batch: number | 'dynamic'; variants?: Partial<GradientVariants> }[] = [
  { net: 'slim', batch: 2 },
  {
    net: 'slim',
    batch: 2,
    variants: {
      depthwiseFilter: 'group-nc',
      convData: 'flipped-conv',
      batchNorm: 'basic',
      reluGradient: 'where',
    },
  },
  { net: 'RFB', batch: 'dynamic' },
  {
    net: 'RFB',
    batch: 2,
    variants: {
      depthwiseFilter: 'shifted-products',
      convFilter: 'transposed-conv',
      convData: 'conv-transpose',
      batchNorm: 'basic',
      reluGradient: 'where',
    },
  },
];

describe('training graph vs PyTorch, whole network (128x96, batch 2, upstream weights)', () => {
  for (const { net, batch, variants } of CASES) {
    it(`${net}, batch ${batch}, variants ${JSON.stringify(variants ?? 'default')}: losses, every gradient and BN batch statistics within ${TOLERANCE}`, async () => {
      const f = loadTrainFixture(net);
      const model = createModel(readWeightsFile(readFileSync(sharedPath(f.weights))).weights);
      const compiled = compileTrainingGraph(model.graph, {
        width: f.width,
        height: f.height,
        batchSize: batch,
        ...(variants ? { variants } : {}),
      });
      assert.equal(compiled.priorCount, f.priorCount);
      const session = await trainingSession(compiled.onnx);
      const out = await session.run(
        trainingFeeds(
          compiled,
          model.weights,
          { image: fixtureImage(f), labels: fixtureLabels(f), gtLocations: fixtureGtLocations(f) },
          f.batch,
        ),
      );
      await session.release();

      const errors: { name: string; error: number }[] = [];
      const check = (name: string, error: number): void => {
        errors.push({ name, error });
      };
      check('loss_regression', Math.abs(scalar(out, LOSS_REGRESSION_OUTPUT) / f.lossRegression - 1));
      check(
        'loss_classification',
        Math.abs(scalar(out, LOSS_CLASSIFICATION_OUTPUT) / f.lossClassification - 1),
      );

      const gradNorm = Math.hypot(...f.tensors.filter((t) => t.kind === 'grad').map((t) => t.norm));
      const byName = new Map(f.tensors.map((t) => [t.name, t]));
      for (const t of f.tensors) {
        const full = floats(out, t.name);
        assert.equal(
          full.length,
          t.shape.reduce((a, b) => a * b, 1),
          t.name,
        );
        const { ref, ours } = sampled(t, f.values, full);
        if (t.kind === 'grad' && t.norm < 1e-12 * gradNorm) {
          check(t.name, (l2(full) / gradNorm) * 1e3); // vanishing gradient: passes when ‖g‖ ≤ 1e-6·‖∇L‖
        } else if (t.kind === 'batch_mean') {
          const spread = byName.get(t.name.replace('batch_mean:', 'batch_var:'))!;
          const scale = Math.max(t.norm, Math.sqrt(sumOf(spread, f.values)));
          check(t.name, (relativeL2(ours, ref) * l2(ref)) / scale);
        } else {
          check(t.name, relativeL2(ours, ref));
          if (t.stride > 1) check(`${t.name} (norm)`, Math.abs(l2(full) / t.norm - 1));
        }
      }
      // every output the graph promises is in the fixture, and vice versa
      const promised = compiled.outputs.filter(
        (o) => o.role !== 'loss_regression' && o.role !== 'loss_classification',
      );
      assert.deepEqual(promised.map((o) => o.name).sort(), f.tensors.map((t) => t.name).sort());
      assert.ok(promised.some((o) => o.name === gradientOutput('base_net.0.0.weight')));
      assert.ok(promised.some((o) => o.name === batchMeanOutput('base_net.0.1')));
      assert.ok(promised.some((o) => o.name === batchVarianceOutput('base_net.0.1')));

      errors.sort((a, b) => b.error - a.error);
      const worst = errors[0];
      assert.ok(worst.error <= TOLERANCE, `worst ${worst.name}: ${worst.error.toExponential(2)}`);
      if (process.env.TRAIN_TEST_VERBOSE) {
        const grads = errors.filter((e) => e.name.startsWith('grad:') && !e.name.endsWith('(norm)'));
        console.log(
          `${net} ${JSON.stringify(variants ?? 'default')}: worst ${worst.name} ${worst.error.toExponential(2)}, ` +
            `worst grad ${grads[0].name} ${grads[0].error.toExponential(2)}, ` +
            `median grad ${grads[grads.length >> 1].error.toExponential(2)}, ` +
            `losses ${errors
              .filter((e) => e.name.startsWith('loss'))
              .map((e) => e.error.toExponential(2))
              .join(' ')}`,
        );
      }
    });
  }
});

/** Σ var over channels (‖√var‖² for a variance tensor stored whole). */
function sumOf(t: { offset: number; count: number }, values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < t.count; i++) s += values[t.offset + i];
  return s;
}
