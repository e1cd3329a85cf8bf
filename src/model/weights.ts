/** A named weight tensor as stored in a state dict: float32 parameters and BN statistics, int64 counters. */
export interface WeightTensor {
  /** Dimensions, PyTorch order (conv weights: [out, in / groups, kh, kw]); [] for a scalar. */
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** A state dict: upstream key (e.g. `base_net.0.1.running_var`) → tensor, in state-dict order. */
export type Weights = ReadonlyMap<string, WeightTensor>;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether a state-dict name is `prefix` or under it: `base_net.7` covers `base_net.7.…`, not `base_net.70`. */
export function isUnderPrefix(name: string, prefix: string): boolean {
  return name === prefix || name.startsWith(`${prefix}.`);
}
