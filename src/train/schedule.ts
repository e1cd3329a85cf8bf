import { integerInRange, invalidOption, numberInRange } from '../core/validate.js';

/**
 * Learning-rate schedules of upstream's train.py (SPEC §7.2), as pure functions of the epoch, plus an optional
 * linear warm-up over the first steps. Upstream steps its schedulers once per epoch; so do these (the warm-up is
 * per step, since a few hundred steps matter).
 */
export type ScheduleKind = 'multi-step' | 'cosine' | 'poly';

export interface ScheduleOptions {
  readonly kind: ScheduleKind;
  /** Base learning rate (upstream --lr 1e-2). */
  readonly lr: number;
  /** multi-step: epochs where the LR drops ×0.1 (upstream scripts: 95, 150). */
  readonly milestones?: readonly number[];
  /** cosine: period in epochs (upstream --t_max 120). */
  readonly tMax?: number;
  /** poly: total epochs and exponent (upstream --power 2). */
  readonly epochs?: number;
  readonly power?: number;
  /** Linear warm-up from ~0 to the schedule's LR over this many steps (default 0: none). */
  readonly warmupSteps?: number;
}

export function validateSchedule(options: ScheduleOptions): ScheduleOptions {
  if (!['multi-step', 'cosine', 'poly'].includes(options.kind)) {
    throw invalidOption('schedule', '"multi-step", "cosine" or "poly"', options.kind);
  }
  numberInRange('lr', options.lr, 0, 10);
  for (const m of options.milestones ?? []) integerInRange('milestones', m, 1, 1_000_000);
  integerInRange('warmupSteps', options.warmupSteps ?? 0, 0, 10_000_000);
  if (options.kind === 'cosine') integerInRange('tMax', options.tMax ?? 120, 1, 1_000_000);
  if (options.kind === 'poly') {
    integerInRange('epochs', options.epochs, 1, 1_000_000);
    numberInRange('power', options.power ?? 2, 0, 100);
  }
  return options;
}

/** LR at `epoch` (0-based) for step `step` (0-based, counted over the whole run). */
export function learningRate(options: ScheduleOptions, epoch: number, step: number): number {
  let lr: number;
  switch (options.kind) {
    case 'multi-step': {
      const passed = (options.milestones ?? [95, 150]).filter((m) => m <= epoch).length;
      lr = options.lr * 0.1 ** passed;
      break;
    }
    case 'cosine':
      lr = (options.lr * (1 + Math.cos((Math.PI * epoch) / (options.tMax ?? 120)))) / 2;
      break;
    case 'poly': {
      // Upstream updates after each epoch, so epochs 0 and 1 both train at the base LR (SPEC §7.2).
      const e = Math.max(0, epoch - 1);
      lr = options.lr * Math.max(0, 1 - e / options.epochs!) ** (options.power ?? 2);
      break;
    }
  }
  const warmup = options.warmupSteps ?? 0;
  return step < warmup ? (lr * (step + 1)) / warmup : lr;
}
