import type { ParamGroup, ParamSpec } from '../model/graph.js';
import { isUnderPrefix } from '../model/weights.js';

/**
 * SGD with momentum and weight decay, exactly as `torch.optim.SGD` (no Nesterov, dampening 0; SPEC §7.2):
 * g ← ∇ + wd·p;  v ← μ·v + g (v = g on the first step);  p ← p − lr·v.
 * Upstream decays every parameter, BN and biases included. Per-group LR multipliers and freezing are options.
 */
export interface SgdOptions {
  readonly momentum: number;
  readonly weightDecay: number;
  /** LR multiplier per parameter group (default 1 each); 0 freezes a group (no update, no momentum). */
  readonly groupScale?: Partial<Readonly<Record<ParamGroup, number>>>;
  /** State-dict name prefixes of the only parameters trained (e.g. `base_net.7`); absent: all. */
  readonly trainOnly?: readonly string[];
}

/** Whether `trainOnly` leaves the parameter or BN layer `name` to train (true when there is no such list). */
export function isTrained(name: string, trainOnly: readonly string[] | undefined): boolean {
  return trainOnly === undefined || trainOnly.some((prefix) => isUnderPrefix(name, prefix));
}

export interface SgdState {
  /** Momentum buffer per parameter; absent until the parameter's first step. */
  readonly velocity: Map<string, Float32Array>;
}

export function createSgdState(): SgdState {
  return { velocity: new Map() };
}

/**
 * One step over all learnable parameters, in place on `params` (Float32Arrays owned by the trainer).
 * @param gradients same names as the parameters
 */
export function sgdStep(
  specs: readonly ParamSpec[],
  params: ReadonlyMap<string, Float32Array>,
  gradients: ReadonlyMap<string, Float32Array>,
  state: SgdState,
  lr: number,
  options: SgdOptions,
): void {
  for (const spec of specs) {
    if (!spec.learnable || !isTrained(spec.name, options.trainOnly)) continue;
    const scale = options.groupScale?.[spec.group] ?? 1;
    if (scale === 0) continue;
    const p = params.get(spec.name)!;
    const grad = gradients.get(spec.name)!;
    let v = state.velocity.get(spec.name);
    const first = v === undefined;
    v ??= new Float32Array(p.length);
    state.velocity.set(spec.name, v);
    const stepLr = lr * scale;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i] + options.weightDecay * p[i];
      const velocity = first ? g : options.momentum * v[i] + g;
      v[i] = velocity;
      p[i] -= stepLr * velocity;
    }
  }
}

/**
 * BatchNorm running statistics after a training step (PyTorch: running ← (1 − m)·running + m·batch, with the
 * unbiased batch variance; SPEC §2.1 momenta 0.1, or 0.01 inside the RFB block).
 */
export function updateRunningStats(
  running: { mean: Float32Array; variance: Float32Array },
  batch: { mean: Float32Array; variance: Float32Array },
  momentum: number,
): void {
  for (let c = 0; c < running.mean.length; c++) {
    running.mean[c] = (1 - momentum) * running.mean[c] + momentum * batch.mean[c];
    running.variance[c] = (1 - momentum) * running.variance[c] + momentum * batch.variance[c];
  }
}
