import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { INPUT_SIZES } from '../../src/core/presets.js';
import { priorCount } from '../../src/core/priors.js';
import { createRandom } from '../../src/core/random.js';
import { buildNetwork } from '../../src/model/network.js';
import { inferShapes } from '../../src/model/shapes.js';
import { compileTrainingGraph, type CompiledTrainingGraph } from '../../src/train/compile.js';
import { initialWeights } from '../../src/train/init.js';
import {
  combineShardResults,
  createStepRunner,
  splitBatch,
  type StepBatch,
  type StepResult,
  type StepRunner,
} from '../../src/train/step-runner.js';
import { relativeL2 } from './helpers/fixture.js';

const size = INPUT_SIZES[128];
const graph = buildNetwork('slim');

/** N images of noise; ~2 % positive priors with random targets (enough for mining and regression). */
function syntheticBatch(n: number, seed: number): StepBatch {
  const random = createRandom(seed, 7);
  const P = priorCount(size);
  const images = Float32Array.from({ length: n * 3 * size.width * size.height }, () => random.uniform(-1, 1));
  const labels = Int32Array.from({ length: n * P }, () => (random.chance(0.02) ? 1 : 0));
  const locations = Float32Array.from({ length: n * P * 4 }, () => random.uniform(-1, 1));
  return { size: n, images, labels, locations };
}

/** [a, b] → [a, b, a, b]. */
function doubled(batch: StepBatch): StepBatch {
  const twice = <T extends Float32Array | Int32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(2 * a.length);
    out.set(a);
    out.set(a, a.length);
    return out;
  };
  return {
    size: 2 * batch.size,
    images: twice(batch.images),
    labels: twice(batch.labels),
    locations: twice(batch.locations),
  };
}

describe('data-parallel training steps', () => {
  let compiled: CompiledTrainingGraph;
  let single: StepRunner;
  let sharded: StepRunner;
  let params: Map<string, Float32Array>;
  before(async () => {
    compiled = compileTrainingGraph(graph, { width: size.width, height: size.height, batchSize: 'dynamic' });
    single = await createStepRunner(graph, compiled, { threads: 1, shards: 1 });
    sharded = await createStepRunner(graph, compiled, { threads: 2, shards: 2 });
    const weights = initialWeights(graph, createRandom(5, 1));
    params = new Map(
      graph.params.filter((p) => p.learnable).map((p) => [p.name, weights.get(p.name)!.data as Float32Array]),
    );
  });
  after(async () => {
    await single.release();
    await sharded.release();
  });

  it('two shards of [a, b, a, b] give the step of [a, b]: losses, gradients, pooled BN statistics', async () => {
    const batch = syntheticBatch(2, 1);
    const expected = await single.run(batch, params);
    const actual = await sharded.run(doubled(batch), params);
    assert.ok(Math.abs(actual.regression - expected.regression) <= 1e-6 * expected.regression);
    assert.ok(Math.abs(actual.classification - expected.classification) <= 1e-6 * expected.classification);
    assert.equal(actual.gradients.size, expected.gradients.size);
    for (const [name, g] of expected.gradients) {
      assert.ok(relativeL2(actual.gradients.get(name)!, g) <= 1e-5, name);
    }
    // Duplicated values: the same mean; Σ(x − m)² doubles, over 2M − 1 degrees of freedom instead of M − 1.
    const shapes = inferShapes(graph, size.width, size.height);
    for (const bn of compiled.batchNorms) {
      const [, h, w] = shapes.get(bn.input)!;
      const M = batch.size * h * w;
      const e = expected.batchStats.get(bn.name)!;
      const a = actual.batchStats.get(bn.name)!;
      assert.ok(relativeL2(a.mean, e.mean) <= 1e-5, bn.name);
      const variance = e.variance.map((v) => (v * 2 * (M - 1)) / (2 * M - 1));
      assert.ok(relativeL2(a.variance, variance) <= 1e-5, bn.name);
    }
  });

  it('is deterministic: the same batch twice gives bit-identical results', async () => {
    const batch = syntheticBatch(5, 2);
    const first = await sharded.run(batch, params);
    const second = await sharded.run(batch, params);
    assert.equal(first.regression, second.regression);
    assert.equal(first.classification, second.classification);
    for (const [name, g] of first.gradients) assert.deepEqual(second.gradients.get(name), g);
  });

  it('a batch smaller than the shard count runs on fewer shards', async () => {
    const batch = syntheticBatch(1, 3);
    const expected = await single.run(batch, params);
    const actual = await sharded.run(batch, params);
    assert.equal(actual.regression, expected.regression);
    assert.equal(actual.classification, expected.classification);
  });
});

describe('splitBatch', () => {
  it('covers the batch in order with shards of ⌊N/S⌋ or ⌈N/S⌉ images', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 8 }), (n, shards) => {
        const batch: StepBatch = {
          size: n,
          images: Float32Array.from({ length: n * 6 }, (_, i) => i),
          labels: Int32Array.from({ length: n * 2 }, (_, i) => i),
          locations: Float32Array.from({ length: n * 8 }, (_, i) => i),
        };
        const parts = splitBatch(batch, shards);
        assert.equal(parts.length, Math.min(n, shards));
        const sizes = parts.map((p) => p.size);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
        assert.deepEqual(Float32Array.from(parts.flatMap((p) => [...p.images])), batch.images);
        assert.deepEqual(Int32Array.from(parts.flatMap((p) => [...p.labels])), batch.labels);
        assert.deepEqual(Float32Array.from(parts.flatMap((p) => [...p.locations])), batch.locations);
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});

describe('combineShardResults', () => {
  const bn = { name: 'bn', channels: 1 } as CompiledTrainingGraph['batchNorms'][number];
  const stats = (values: number[]): { mean: Float32Array; variance: Float32Array } => {
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const v = values.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(values.length - 1, 1);
    return { mean: Float32Array.of(m), variance: Float32Array.of(v) };
  };
  const result = (values: number[], loss: number, grad: number): StepResult => ({
    regression: loss,
    classification: 2 * loss,
    gradients: new Map([['w', Float32Array.of(grad)]]),
    batchStats: new Map([['bn', stats(values)]]),
  });

  it('pools BatchNorm statistics exactly: mean and unbiased variance of all values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 12 }), {
          minLength: 2,
          maxLength: 4,
        }),
        (groups) => {
          // one "image" per value (spatial size 1), so a shard's count is its image count
          const combined = combineShardResults(
            { batchNorms: [bn] },
            groups.map((g) => result(g, 1, 1)),
            groups.map((g) => ({ images: g.length, positives: 1 })),
            new Map([['bn', 1]]),
          );
          const all = stats(groups.flat());
          const got = combined.batchStats.get('bn')!;
          assert.ok(Math.abs(got.mean[0] - all.mean[0]) <= 1e-5 * (1 + Math.abs(all.mean[0])));
          assert.ok(Math.abs(got.variance[0] - all.variance[0]) <= 1e-4 * (1 + all.variance[0]));
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });

  it('weights losses and gradients by the shares of positives (max(n_i, 1) / max(n, 1))', () => {
    const combined = combineShardResults(
      { batchNorms: [] },
      [result([0, 1], 3, 10), result([0, 1], 6, 20), result([0, 1], 0, 0)],
      [
        { images: 2, positives: 1 },
        { images: 2, positives: 3 },
        { images: 2, positives: 0 }, // no positives: loss and gradient 0 already
      ],
      new Map(),
    );
    const n = 4;
    assert.ok(Math.abs(combined.regression - ((1 / n) * 3 + (3 / n) * 6)) < 1e-12);
    assert.ok(Math.abs(combined.classification - 2 * ((1 / n) * 3 + (3 / n) * 6)) < 1e-12);
    assert.ok(Math.abs(combined.gradients.get('w')![0] - ((1 / n) * 10 + (3 / n) * 20)) < 1e-5);
  });
});
