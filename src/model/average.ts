import { UltrafaceError } from '../core/errors.js';
import { isUnderPrefix, type Weights, type WeightTensor } from './weights.js';

/** Another mix for one part of the network: the tensors named `prefix` or `prefix.…` (e.g. `base_net.7`). */
export interface PartMix {
  readonly prefix: string;
  /** One weight per model, each ≥ 0 and not all 0, like the overall mix: a part may come from some models only. */
  readonly mix: readonly number[];
}

/**
 * Weight averaging ("model soup", Wortsman et al. 2022): the element-wise weighted mean of several state dicts of
 * one network. It is meaningful for models fine-tuned from a common ancestor (e.g. a 320×240 checkpoint and its
 * 640×480 fine-tune), whose weights lie in one basin; the mean of unrelated models is not a detector.
 * BatchNorm statistics are averaged like the parameters. The int64 counters (`num_batches_tracked`) are not
 * weights and may be missing (an ONNX export made with --no-fold-bn holds none): each comes from the first model
 * that has it, so a checkpoint averages with an export.
 * Parts of the network may take their own mix (`parts`; the longest matching prefix rules), e.g. the layers of the
 * smallest faces from a crowd-tuned model and the rest from the mean: such a mean is not on the straight line
 * between the models, and can keep what each does best.
 * @param mix one weight ≥ 0 per model, not all 0 (default: equal), normalised to sum to 1; a 0 takes a model into
 *   the parts only
 * @throws UltrafaceError E_INVALID_OPTION for fewer than two models, a bad mix or a part that names no tensor,
 *   E_WEIGHTS_MISMATCH when the state dicts differ in names, shapes or types (other networks, or a BN-folded export
 *   next to unfolded weights)
 */
export function averageWeights(
  models: readonly Weights[],
  mix?: readonly number[],
  parts: readonly PartMix[] = [],
): Weights {
  if (models.length < 2) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected at least two models to average but received ${models.length}`,
    );
  }
  const shares = normalised(mix ?? models.map(() => 1), models.length);
  const [first] = models;
  models.forEach((model, m) => {
    checkSameLayout(first, model, m);
  });
  const layout = layoutOf(models);
  const shareOf = partShares(parts, models.length, [...layout.keys()]);

  const averaged = new Map<string, WeightTensor>();
  for (const [name, tensor] of layout) {
    if (isCounter(name) || !(tensor.data instanceof Float32Array)) {
      averaged.set(name, tensor);
      continue;
    }
    const tensorShares = shareOf(name) ?? shares;
    const sum = new Float64Array(tensor.data.length);
    models.forEach((model, m) => {
      const share = tensorShares[m];
      if (share === 0) return;
      const data = model.get(name)!.data as Float32Array;
      for (let i = 0; i < data.length; i++) sum[i] += share * data[i];
    });
    averaged.set(name, { shape: tensor.shape, data: Float32Array.from(sum) });
  }
  return averaged;
}

/** The mix as shares summing to 1, checked: one weight per model, each ≥ 0, not all 0. */
function normalised(mix: readonly number[], models: number): number[] {
  const total = mix.reduce((a, b) => a + b, 0);
  if (mix.length !== models || !mix.every((w) => Number.isFinite(w) && w >= 0) || !(total > 0)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected one weight >= 0 per model (${models}), not all 0, but received ${mix.join(', ')}`,
    );
  }
  return mix.map((w) => w / total);
}

/** name → the shares of the longest part prefix that covers it (undefined: the overall mix). */
function partShares(
  parts: readonly PartMix[],
  models: number,
  names: readonly string[],
): (name: string) => number[] | undefined {
  const seen = new Set<string>();
  const checked = [...parts]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .map((part) => {
      if (seen.has(part.prefix)) {
        throw new UltrafaceError(
          'E_INVALID_OPTION',
          `Expected each part once but ${part.prefix} is given twice`,
        );
      }
      if (!names.some((name) => isUnderPrefix(name, part.prefix))) {
        throw new UltrafaceError(
          'E_INVALID_OPTION',
          `Expected the part ${part.prefix} to name tensors of the network (e.g. base_net.7 or ` +
            `classification_headers.0) but no tensor is named ${part.prefix} or ${part.prefix}.…`,
        );
      }
      seen.add(part.prefix);
      return { prefix: part.prefix, shares: normalised(part.mix, models) };
    });
  return (name) => checked.find((part) => isUnderPrefix(name, part.prefix))?.shares;
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
