import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { INPUT_SIZES } from '../../src/core/presets.js';
import { priorCount } from '../../src/core/priors.js';
import { createRandom } from '../../src/core/random.js';
import { headFeature } from '../../src/model/graph.js';
import { buildNetwork } from '../../src/model/network.js';
import { inferShapes } from '../../src/model/shapes.js';
import { compileTrainingGraph } from '../../src/train/compile.js';
import { initialWeights } from '../../src/train/init.js';
import { createStepRunner, type StepBatch, type StepRunner } from '../../src/train/step-runner.js';

/**
 * The feature term's gradient enters the backward pass at the first level's head input (compile.ts): it reaches the
 * layers under that tensor and nothing else, only for taught images, and it is the derivative of the term's value.
 */

const size = INPUT_SIZES[128];
const graph = buildNetwork('slim');
const P = priorCount(size);
const [C, H, W] = inferShapes(graph, size.width, size.height).get(headFeature(graph, 0))!;

function batch(n: number, taught: number): StepBatch {
  const random = createRandom(3, 9);
  return {
    size: n,
    images: Float32Array.from({ length: n * 3 * size.width * size.height }, () => random.uniform(-1, 1)),
    labels: Int32Array.from({ length: n * P }, () => (random.chance(0.02) ? 1 : 0)),
    locations: Float32Array.from({ length: n * P * 4 }, () => random.uniform(-1, 1)),
    teacherScores: new Float32Array(n * P * 2).fill(0.5),
    teacherLocations: new Float32Array(n * P * 4),
    distillMask: new Float32Array(n * P).fill(taught),
    teacherFeatures: Float32Array.from({ length: n * C * H * W }, () => Math.max(0, random.uniform(-0.5, 1))),
  };
}

describe('feature distillation in the training graph', () => {
  let plain: StepRunner;
  let withFeatures: StepRunner;
  let params: Map<string, Float32Array>;
  before(async () => {
    const base = { width: size.width, height: size.height, batchSize: 'dynamic' as const };
    const off = { classification: 0, regression: 0 };
    plain = await createStepRunner(graph, compileTrainingGraph(graph, { ...base, distillation: off }), {
      threads: 1,
      shards: 1,
    });
    withFeatures = await createStepRunner(
      graph,
      compileTrainingGraph(graph, { ...base, distillation: { ...off, features: 100 } }),
      { threads: 1, shards: 1 },
    );
    const weights = initialWeights(graph, createRandom(5, 1));
    params = new Map(
      graph.params.filter((p) => p.learnable).map((p) => [p.name, weights.get(p.name)!.data as Float32Array]),
    );
  });
  after(async () => {
    await plain.release();
    await withFeatures.release();
  });

  it('changes the gradients under the tensor only, and is the derivative of its value', async () => {
    const taught = batch(2, 1);
    const a = await plain.run(taught, params);
    const b = await withFeatures.run(taught, params);
    assert.ok((b.distillation?.features ?? 0) > 0);
    assert.equal(b.classification, a.classification);
    const changed: string[] = [];
    for (const [name, g] of a.gradients) {
      const h = b.gradients.get(name)!;
      if (name.includes('_headers.') || name.startsWith('extras.')) assert.deepEqual(h, g, name);
      else if (h.some((v, i) => v !== g[i])) changed.push(name);
    }
    assert.ok(changed.includes('base_net.0.0.weight'), changed.join(' '));
    // Directional derivative of the feature term along its own gradient, by central differences.
    const direction = new Map(
      [...a.gradients].map(([name, g]) => [name, b.gradients.get(name)!.map((v, i) => v - g[i])]),
    );
    const norm = Math.sqrt([...direction.values()].reduce((s, d) => s + d.reduce((t, v) => t + v * v, 0), 0));
    const epsilon = 1e-3;
    const shifted = (sign: number): Map<string, Float32Array> =>
      new Map(
        [...params].map(([name, p]) => [
          name,
          p.map((v, i) => v + (sign * epsilon * direction.get(name)![i]) / norm),
        ]),
      );
    const up = (await withFeatures.run(taught, shifted(1))).distillation!.features!;
    const down = (await withFeatures.run(taught, shifted(-1))).distillation!.features!;
    const numeric = (up - down) / (2 * epsilon);
    assert.ok(Math.abs(numeric - norm) <= 0.02 * norm, `${numeric} vs ${norm}`);
  });

  it('is zero with unchanged gradients for images the teacher does not teach', async () => {
    const untaught = batch(2, 0);
    const a = await plain.run(untaught, params);
    const b = await withFeatures.run(untaught, params);
    assert.equal(b.distillation?.features, 0);
    for (const [name, g] of a.gradients) assert.deepEqual(b.gradients.get(name), g, name);
  });
});
