import { UltrafaceError } from '../core/errors.js';
import type { Weights, WeightTensor } from './weights.js';

/**
 * Weight averaging ("model soup", Wortsman et al. 2022): the element-wise weighted mean of several state dicts of
 * one network. It is meaningful for models fine-tuned from a common ancestor (e.g. a 320×240 checkpoint and its
 * 640×480 fine-tune), whose weights lie in one basin; the mean of unrelated models is not a detector.
 * BatchNorm statistics are averaged like the parameters. The int64 counters (`num_batches_tracked`) are not
 * weights and may be missing (an ONNX export made with --no-fold-bn holds none): each comes from the first model
 * that has it, so a checkpoint averages with an export.
 * @param mix one positive weight per model (default: equal), normalised to sum to 1
 * @throws UltrafaceError E_INVALID_OPTION for fewer than two models or a bad mix, E_WEIGHTS_MISMATCH when the
 *   state dicts differ in names, shapes or types (other networks, or a BN-folded export next to unfolded weights)
 */
export function averageWeights(models: readonly Weights[], mix?: readonly number[]): Weights {
  if (models.length < 2) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected at least two models to average but received ${models.length}`,
    );
  }
  const shares = mix ?? models.map(() => 1);
  if (shares.length !== models.length || shares.some((w) => !Number.isFinite(w) || w <= 0)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected one positive weight per model (${models.length}) but received ${shares.join(', ')}`,
    );
  }
  const total = shares.reduce((a, b) => a + b, 0);
  const [first] = models;
  models.forEach((model, m) => {
    checkSameLayout(first, model, m);
  });

  const averaged = new Map<string, WeightTensor>();
  for (const [name, tensor] of layoutOf(models)) {
    if (isCounter(name) || !(tensor.data instanceof Float32Array)) {
      averaged.set(name, tensor);
      continue;
    }
    const sum = new Float64Array(tensor.data.length);
    models.forEach((model, m) => {
      const data = model.get(name)!.data as Float32Array;
      const share = shares[m] / total;
      for (let i = 0; i < data.length; i++) sum[i] += share * data[i];
    });
    averaged.set(name, { shape: tensor.shape, data: Float32Array.from(sum) });
  }
  return averaged;
}

const isCounter = (name: string): boolean => name.endsWith('.num_batches_tracked');

/** The first model's tensors in its order, with each counter it lacks taken from the first model that has it. */
function layoutOf(models: readonly Weights[]): Weights {
  const layout = new Map(models[0]);
  for (const model of models.slice(1))
    for (const [name, tensor] of model) if (!layout.has(name)) layout.set(name, tensor);
  return layout;
}

function checkSameLayout(first: Weights, other: Weights, index: number): void {
  const mismatch = (what: string): UltrafaceError =>
    new UltrafaceError(
      'E_WEIGHTS_MISMATCH',
      `Expected model ${index + 1} to have the same tensors as model 1 but ${what} (average the weights of one ` +
        `network, all unfolded: training checkpoints, .pth files or exports made with --no-fold-bn)`,
    );
  for (const name of other.keys())
    if (!first.has(name) && !isCounter(name)) throw mismatch(`it has ${name}, which model 1 lacks`);
  for (const [name, tensor] of first) {
    const theirs = other.get(name);
    if (theirs === undefined) {
      if (isCounter(name)) continue;
      throw mismatch(`it lacks ${name}`);
    }
    if (theirs.shape.join('x') !== tensor.shape.join('x'))
      throw mismatch(`${name} is [${theirs.shape.join(', ')}], not [${tensor.shape.join(', ')}]`);
    if (theirs.data instanceof Float32Array !== tensor.data instanceof Float32Array)
      throw mismatch(`${name} has another type`);
  }
}
