import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { readWeightsFile } from '../../src/model/import/weights-file.js';
import { createModel } from '../../src/model/model.js';
import type { BatchNormNode } from '../../src/model/graph.js';
import { buildNetwork } from '../../src/model/network.js';
import {
  compileTrainingGraph,
  gradientOutput,
  LOSS_CLASSIFICATION_OUTPUT,
  LOSS_REGRESSION_OUTPUT,
  type TrainingGraphOptions,
} from '../../src/train/compile.js';
import { sharedPath } from '../helpers/shared.js';
import {
  fixtureGtLocations,
  fixtureImage,
  fixtureLabels,
  loadTrainFixture,
  relativeL2,
} from './helpers/fixture.js';
import { floats, scalar, trainingFeeds, trainingSession } from './helpers/session.js';

describe('compileTrainingGraph: interface', () => {
  it('train mode lists the batch, every learnable parameter, its gradient and per-BN batch statistics', () => {
    const graph = buildNetwork('slim');
    const c = compileTrainingGraph(graph, { width: 128, height: 96, batchSize: 2 });
    assert.equal(c.priorCount, 708);
    assert.equal(c.mode, 'train');
    assert.deepEqual(
      c.inputs.slice(0, 3).map((i) => [i.name, i.role, i.dtype, i.shape]),
      [
        ['input', 'image', 'float32', [2, 3, 96, 128]],
        ['labels', 'labels', 'int64', [2, 708]],
        ['gt_locations', 'gt_locations', 'float32', [2, 708, 4]],
      ],
    );
    const learnable = graph.params.filter((p) => p.learnable);
    assert.deepEqual(
      c.inputs.slice(3).map((i) => [i.name, i.shape]),
      learnable.map((p) => [p.name, p.shape]),
    );
    assert.deepEqual(
      c.outputs.slice(0, 2).map((o) => [o.name, o.shape]),
      [
        [LOSS_REGRESSION_OUTPUT, []],
        [LOSS_CLASSIFICATION_OUTPUT, []],
      ],
    );
    const grads = c.outputs.filter((o) => o.role === 'grad');
    assert.deepEqual(
      grads.map((o) => [o.name, o.source, o.shape]),
      learnable.map((p) => [gradientOutput(p.name), p.name, p.shape]),
    );
    const bns = graph.nodes.filter((n): n is BatchNormNode => n.op === 'batchnorm');
    assert.equal(bns.length, 25);
    assert.deepEqual(
      c.batchNorms.map((n) => n.name),
      bns.map((n) => n.name),
    );
    for (const role of ['batch_mean', 'batch_var'] as const) {
      assert.deepEqual(
        c.outputs.filter((o) => o.role === role).map((o) => [o.source, o.shape]),
        bns.map((n) => [n.name, [n.channels]]),
      );
    }
  });

  it('eval mode takes the running statistics and returns only the losses; dynamic batch is symbolic', () => {
    const graph = buildNetwork('RFB');
    const c = compileTrainingGraph(graph, { width: 160, height: 120, batchSize: 'dynamic', mode: 'eval' });
    assert.deepEqual(c.inputs[0].shape, ['batch', 3, 120, 160]);
    assert.equal(c.inputs.filter((i) => i.role === 'running_mean').length, 35);
    assert.equal(c.inputs.filter((i) => i.role === 'running_var').length, 35);
    assert.deepEqual(
      c.outputs.map((o) => o.name),
      [LOSS_REGRESSION_OUTPUT, LOSS_CLASSIFICATION_OUTPUT],
    );
  });

  it('rejects invalid options with E_INVALID_OPTION', () => {
    const graph = buildNetwork('slim');
    const DISTILL = {
      width: 128,
      height: 96,
      batchSize: 2,
      distillation: { classification: 1, regression: 1 },
    };
    // the valid counterparts of the limits below build
    compileTrainingGraph(graph, {
      ...DISTILL,
      distillationBoxMinFace: 0.3,
      distillationBoxPriors: new Float32Array(708).fill(1),
    });
    const bad: unknown[] = [
      { width: 0, height: 96, batchSize: 2 },
      { width: 128, height: 96.5, batchSize: 2 },
      { width: 128, height: 96, batchSize: 0 },
      { width: 128, height: 96, batchSize: 'auto' },
      { width: 128, height: 96, batchSize: 2, mode: 'test' },
      { width: 128, height: 96, batchSize: 2, lossOnly: true },
      { width: 128, height: 96, batchSize: 2, variants: 'fast' },
      { width: 128, height: 96, batchSize: 2, variants: { batchNorm: 'one-pass' } },
      { width: 128, height: 96, batchSize: 2, variants: { depthwise: 'group-c' } },
      { width: 128, height: 96, batchSize: 'dynamic', variants: { depthwiseFilter: 'group-nc' } },
      // the box term's limits: only with distillation, one 0/1 value per prior (slim at 128x96: 708), p in [0, 1]
      { width: 128, height: 96, batchSize: 2, distillationBoxMinFace: 0.3 },
      { width: 128, height: 96, batchSize: 2, distillationBoxPriors: new Float32Array(708) },
      { ...DISTILL, distillationBoxMinFace: 1.5 },
      { ...DISTILL, distillationBoxPriors: new Float32Array(707) },
      { ...DISTILL, distillationBoxPriors: new Float32Array(708).fill(0.5) },
      { ...DISTILL, distillationBoxPriors: Array.from({ length: 708 }, () => 1) },
    ];
    for (const options of bad) {
      assert.throws(
        () => compileTrainingGraph(graph, options as TrainingGraphOptions),
        (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
        JSON.stringify(options),
      );
    }
  });
});

describe('compileTrainingGraph: running', () => {
  for (const net of ['slim', 'RFB'] as const) {
    it(`${net}: eval-mode losses match PyTorch eval mode (float64) within 1e-4`, async () => {
      const f = loadTrainFixture(net);
      const model = createModel(readWeightsFile(readFileSync(sharedPath(f.weights))).weights);
      const c = compileTrainingGraph(model.graph, {
        width: 128,
        height: 96,
        batchSize: 'dynamic',
        mode: 'eval',
      });
      const session = await trainingSession(c.onnx);
      const batch = { image: fixtureImage(f), labels: fixtureLabels(f), gtLocations: fixtureGtLocations(f) };
      const out = await session.run(trainingFeeds(c, model.weights, batch, 2));
      await session.release();
      const reg = scalar(out, LOSS_REGRESSION_OUTPUT);
      const cls = scalar(out, LOSS_CLASSIFICATION_OUTPUT);
      assert.ok(Math.abs(reg / f.evalLossRegression - 1) <= 1e-4, `${reg} vs ${f.evalLossRegression}`);
      assert.ok(
        Math.abs(cls / f.evalLossClassification - 1) <= 1e-4,
        `${cls} vs ${f.evalLossClassification}`,
      );
    });
  }

  it('a dynamic-batch graph equals the fixed-batch ones at N = 2 and at N = 1', async () => {
    const f = loadTrainFixture('slim');
    const model = createModel(readWeightsFile(readFileSync(sharedPath(f.weights))).weights);
    const batch = { image: fixtureImage(f), labels: fixtureLabels(f), gtLocations: fixtureGtLocations(f) };
    const run = async (
      batchSize: number | 'dynamic',
      n: number,
      b = batch,
    ): Promise<Record<string, Float32Array>> => {
      const c = compileTrainingGraph(model.graph, { width: 128, height: 96, batchSize });
      const session = await trainingSession(c.onnx);
      const out = await session.run(trainingFeeds(c, model.weights, b, n));
      await session.release();
      return Object.fromEntries(c.outputs.map((o) => [o.name, floats(out, o.name)]));
    };
    const fixed = await run(2, 2);
    const dynamic = await run('dynamic', 2);
    for (const [name, value] of Object.entries(fixed))
      assert.ok(relativeL2(dynamic[name], value) <= 1e-5, `${name}: ${relativeL2(dynamic[name], value)}`);
    const first = {
      image: batch.image.subarray(0, batch.image.length / 2),
      labels: batch.labels.subarray(0, batch.labels.length / 2),
      gtLocations: batch.gtLocations.subarray(0, batch.gtLocations.length / 2),
    };
    // N = 1 through the dynamic graph: every output (losses, gradients, batch statistics) as a graph fixed to 1
    const single = await run('dynamic', 1, first);
    const fixedSingle = await run(1, 1, first);
    for (const [name, value] of Object.entries(fixedSingle))
      assert.ok(
        relativeL2(single[name], value) <= 1e-5,
        `${name} at N = 1: ${relativeL2(single[name], value)}`,
      );
    assert.notEqual(single[LOSS_REGRESSION_OUTPUT][0], fixed[LOSS_REGRESSION_OUTPUT][0]);
  });
});
