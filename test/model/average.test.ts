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
    for (const mix of [[1], [0, 0], [1, -1], [1, Number.NaN], [1, 1, 1]]) {
      assert.throws(() => averageWeights([stateDict(1, 1, 1), stateDict(2, 2, 2)], mix), code, String(mix));
    }
  });

  it('gives parts of the network their own mix, the longest matching prefix first, zero weights allowed', () => {
    const layered = (a: number): Weights =>
      new Map([
        ['head.0.weight', f32([1], [a])],
        ['head.0.bias', f32([1], [2 * a])],
        ['head.1.weight', f32([1], [3 * a])],
        ['head.10.weight', f32([1], [4 * a])],
        ['body.weight', f32([1], [5 * a])],
      ]);
    const mean = averageWeights(
      [layered(1), layered(3)],
      [1, 1],
      [
        { prefix: 'head', mix: [3, 1] },
        { prefix: 'head.1', mix: [1, 0] },
        { prefix: 'head.0.bias', mix: [0, 2] },
      ],
    );
    const value = (name: string): number => mean.get(name)!.data[0] as number;
    assert.equal(value('head.0.weight'), 1.5); // 'head': (3·1 + 1·3) / 4
    assert.equal(value('head.0.bias'), 6); // the whole tensor named: model 2's
    assert.equal(value('head.1.weight'), 3); // 'head.1': model 1's
    assert.equal(value('head.10.weight'), 6); // 'head.1' ends at a dot, so 'head' rules here
    assert.equal(value('body.weight'), 10); // no part: the overall mix
    const graft = averageWeights([layered(1), layered(3)], [0, 1], [{ prefix: 'head.1', mix: [1, 0] }]);
    assert.deepEqual(
      [...graft.values()].map((t) => t.data[0]),
      [3, 6, 3, 12, 15], // model 2, but head.1 from model 1
    );
  });

  it('refuses parts that name no tensor, come twice or have a bad mix (E_INVALID_OPTION)', () => {
    const models = [stateDict(1, 1, 1), stateDict(2, 2, 2)];
    const code = { code: 'E_INVALID_OPTION' };
    assert.throws(() => averageWeights(models, undefined, [{ prefix: 'con', mix: [1, 0] }]), {
      ...code,
      message: /no tensor is named con/,
    });
    const twice = [
      { prefix: 'bn', mix: [1, 0] },
      { prefix: 'bn', mix: [0, 1] },
    ];
    assert.throws(() => averageWeights(models, undefined, twice), { ...code, message: /bn is given twice/ });
    for (const mix of [[0, 0], [1, -1], [1], [1, Number.POSITIVE_INFINITY]]) {
      assert.throws(() => averageWeights(models, undefined, [{ prefix: 'conv', mix }]), code, String(mix));
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
