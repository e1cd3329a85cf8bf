import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRandom } from '../../src/core/random.js';
import type { ParamSpec } from '../../src/model/graph.js';
import { buildNetwork } from '../../src/model/network.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { initialWeights } from '../../src/train/init.js';
import { createSgdState, sgdStep, updateRunningStats } from '../../src/train/optimizer.js';
import { learningRate } from '../../src/train/schedule.js';

const spec = (name: string, group: ParamSpec['group'] = 'heads'): ParamSpec => ({
  name,
  shape: [2],
  role: 'weight',
  group,
  learnable: true,
  node: name,
});

describe('sgdStep (torch.optim.SGD semantics, SPEC §7.2)', () => {
  it('matches hand-computed momentum and weight-decay updates', () => {
    const p = Float32Array.of(1, -2);
    const params = new Map([['w', p]]);
    const state = createSgdState();
    const options = { momentum: 0.9, weightDecay: 0.1 };
    sgdStep([spec('w')], params, new Map([['w', Float32Array.of(0.5, 0.5)]]), state, 0.1, options);
    // g = 0.5 + 0.1·1 = 0.6 → v = 0.6 → p = 1 − 0.06; g = 0.5 − 0.2 = 0.3 → p = −2 − 0.03
    assert.deepEqual(Array.from(p), [Math.fround(0.94), Math.fround(-2.03)]);
    sgdStep([spec('w')], params, new Map([['w', Float32Array.of(0, 0)]]), state, 0.1, options);
    // g = 0.1·0.94 = 0.094 → v = 0.9·0.6 + 0.094 = 0.634 → p = 0.94 − 0.0634
    assert.ok(Math.abs(p[0] - 0.8766) < 1e-6);
  });

  it('freezes a group with scale 0 and scales the LR of others', () => {
    const base = Float32Array.of(1, 1);
    const head = Float32Array.of(1, 1);
    const params = new Map([
      ['b', base],
      ['h', head],
    ]);
    const grads = new Map([
      ['b', Float32Array.of(1, 1)],
      ['h', Float32Array.of(1, 1)],
    ]);
    sgdStep([spec('b', 'base_net'), spec('h')], params, grads, createSgdState(), 0.5, {
      momentum: 0.9,
      weightDecay: 0,
      groupScale: { base_net: 0, heads: 2 },
    });
    assert.deepEqual(Array.from(base), [1, 1]);
    assert.deepEqual(Array.from(head), [0, 0]);
  });

  it('trains only the parameters under trainOnly prefixes (a prefix ends at a dot)', () => {
    const names = ['base_net.7.weight', 'base_net.70.weight', 'heads.0.bias'];
    const params = new Map(names.map((n) => [n, Float32Array.of(1, 1)]));
    const grads = new Map(names.map((n) => [n, Float32Array.of(1, 1)]));
    sgdStep(
      names.map((n) => spec(n)),
      params,
      grads,
      createSgdState(),
      0.5,
      { momentum: 0.9, weightDecay: 0, trainOnly: ['base_net.7', 'heads.0.bias'] },
    );
    assert.deepEqual(
      names.map((n) => Array.from(params.get(n)!)),
      [
        [0.5, 0.5],
        [1, 1],
        [0.5, 0.5],
      ],
    );
  });

  it('blends BN running statistics with the momentum', () => {
    const running = { mean: Float32Array.of(0), variance: Float32Array.of(1) };
    updateRunningStats(running, { mean: Float32Array.of(2), variance: Float32Array.of(3) }, 0.1);
    assert.deepEqual([running.mean[0], running.variance[0]], [Math.fround(0.2), Math.fround(1.2)]);
  });
});

const close = (actual: number[], expected: number[]): void => {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    assert.ok(Math.abs(a - expected[i]) < 1e-12, `${i}: ${a} vs ${expected[i]}`);
  });
};

describe('learningRate (SPEC §7.2)', () => {
  it('multi-step drops ×0.1 at each milestone', () => {
    const s = { kind: 'multi-step', lr: 0.01, milestones: [95, 150] } as const;
    close(
      [0, 94, 95, 149, 150, 199].map((e) => learningRate(s, e, 10_000)),
      [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001],
    );
  });
  it('cosine and poly follow upstream, and warm-up ramps linearly', () => {
    close([learningRate({ kind: 'cosine', lr: 1, tMax: 120 }, 60, 0)], [0.5]);
    const poly = { kind: 'poly', lr: 1, epochs: 10, power: 2 } as const;
    assert.deepEqual(
      [0, 1, 2].map((e) => learningRate(poly, e, 0)),
      [1, 1, 0.81],
    );
    const warm = { kind: 'multi-step', lr: 0.01, warmupSteps: 4 } as const;
    assert.deepEqual(
      [0, 1, 3, 4].map((s) => learningRate(warm, 0, s)),
      [0.0025, 0.005, 0.01, 0.01],
    );
  });
});

describe('initialWeights and checkpoints', () => {
  it('initialises like PyTorch and round-trips through a checkpoint bit-exactly', () => {
    const graph = buildNetwork('slim');
    const weights = initialWeights(graph, createRandom(1));
    const conv = weights.get('base_net.0.0.weight')!.data as Float32Array; // fan_in 27
    assert.ok(conv.every((v) => Math.abs(v) <= 1 / Math.sqrt(27)));
    assert.ok(Math.abs(conv.reduce((a, b) => a + b, 0) / conv.length) < 0.05);
    assert.ok((weights.get('base_net.0.1.running_var')!.data as Float32Array).every((v) => v === 1));

    const state = { epoch: 3, step: 120, rng: createRandom(7).getState() };
    const restored = decodeCheckpoint<typeof state>(encodeCheckpoint({ state, tensors: weights }));
    assert.deepEqual(restored.state, state);
    assert.deepEqual([...restored.tensors.keys()], [...weights.keys()]);
    for (const [name, tensor] of weights) assert.deepEqual(restored.tensors.get(name), tensor);
  });
  it('refuses a damaged checkpoint with a coded error', () => {
    const bytes = encodeCheckpoint({
      state: {},
      tensors: initialWeights(buildNetwork('slim'), createRandom(1)),
    });
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100)), { code: 'E_CHECKPOINT' });
    assert.throws(() => decodeCheckpoint(new Uint8Array([1, 2, 3])), { code: 'E_CHECKPOINT' });
  });
});
