import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { averageWeights } from '../../src/model/average.js';
import type { Weights, WeightTensor } from '../../src/model/weights.js';

const f32 = (shape: number[], values: number[]): WeightTensor => ({ shape, data: Float32Array.from(values) });
const counter = (n: number): WeightTensor => ({ shape: [], data: BigInt64Array.from([BigInt(n)]) });

const stateDict = (a: number, b: number, steps: number): Weights =>
  new Map([
    ['conv.weight', f32([2, 1, 1, 1], [a, -a])],
    ['bn.running_var', f32([2], [b, 2 * b])],
    ['bn.num_batches_tracked', counter(steps)],
  ]);

describe('averageWeights', () => {
  it('takes the element-wise mean, equal shares by default', () => {
    const mean = averageWeights([stateDict(1, 2, 10), stateDict(3, 6, 20)]);
    assert.deepEqual([...mean.get('conv.weight')!.data], [2, -2]);
    assert.deepEqual([...mean.get('bn.running_var')!.data], [4, 8]);
    assert.deepEqual(mean.get('conv.weight')!.shape, [2, 1, 1, 1]);
  });

  it('weights each model by its share of the mix, and keeps the first model’s int64 counters', () => {
    const mean = averageWeights([stateDict(1, 2, 10), stateDict(5, 6, 20)], [3, 1]);
    assert.deepEqual([...mean.get('conv.weight')!.data], [2, -2]); // (3·1 + 1·5) / 4
    assert.deepEqual([...mean.get('bn.running_var')!.data], [3, 6]);
    assert.deepEqual([...mean.get('bn.num_batches_tracked')!.data], [10n]);
    assert.deepEqual([...mean.keys()], ['conv.weight', 'bn.running_var', 'bn.num_batches_tracked']);
  });

  it('averages a model without BN counters (a --no-fold-bn export) with checkpoints, in either order', () => {
    const exported: Weights = new Map([...stateDict(5, 6, 0)].filter(([name]) => !name.endsWith('_tracked')));
    const first = averageWeights([exported, stateDict(1, 2, 10)]);
    assert.deepEqual([...first.get('conv.weight')!.data], [3, -3]);
    assert.deepEqual([...first.get('bn.num_batches_tracked')!.data], [10n]);
    const last = averageWeights([stateDict(1, 2, 10), exported, stateDict(3, 4, 20)]);
    assert.deepEqual([...last.get('bn.running_var')!.data], [4, 8]);
    assert.deepEqual([...last.get('bn.num_batches_tracked')!.data], [10n]);
    assert.deepEqual([...last.keys()], ['conv.weight', 'bn.running_var', 'bn.num_batches_tracked']);
  });

  it('averages three models and leaves its inputs untouched', () => {
    const models = [stateDict(1, 1, 1), stateDict(2, 1, 1), stateDict(6, 1, 1)];
    const mean = averageWeights(models);
    assert.deepEqual([...mean.get('conv.weight')!.data], [3, -3]);
    assert.deepEqual([...models[0].get('conv.weight')!.data], [1, -1]);
  });

  it('refuses fewer than two models and a bad mix (E_INVALID_OPTION)', () => {
    const code = { code: 'E_INVALID_OPTION' };
    assert.throws(() => averageWeights([stateDict(1, 1, 1)]), code);
    for (const mix of [[1], [1, 0], [1, -1], [1, Number.NaN], [1, 1, 1]]) {
      assert.throws(() => averageWeights([stateDict(1, 1, 1), stateDict(2, 2, 2)], mix), code, String(mix));
    }
  });

  it('refuses state dicts of different layouts (E_WEIGHTS_MISMATCH), naming the tensor', () => {
    const folded = new Map([...stateDict(1, 1, 1)].filter(([name]) => !name.startsWith('bn.')));
    folded.set('conv.bias', f32([2], [0, 0]));
    assert.throws(() => averageWeights([stateDict(1, 1, 1), folded]), {
      code: 'E_WEIGHTS_MISMATCH',
      message: /conv\.bias/,
    });
    const wider = new Map(stateDict(1, 1, 1));
    wider.set('conv.weight', f32([1, 2, 1, 1], [1, 1]));
    assert.throws(() => averageWeights([stateDict(1, 1, 1), wider]), {
      code: 'E_WEIGHTS_MISMATCH',
      message: /conv\.weight is \[1, 2, 1, 1\]/,
    });
    const retyped = new Map(stateDict(1, 1, 1));
    retyped.set('bn.num_batches_tracked', f32([], [1]));
    assert.throws(() => averageWeights([stateDict(1, 1, 1), retyped]), { code: 'E_WEIGHTS_MISMATCH' });
  });
});
