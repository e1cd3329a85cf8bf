import type { TrainConfig } from '../../../src/train/trainer.js';

/**
 * The tiny training preset (STYLE.md §12): slim at 128x96, batch 8, no augmentation, no validation or periodic
 * checkpoints; tests override what they exercise.
 */
export function tinyConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    net: 'slim',
    inputSize: 128,
    epochs: 80,
    batchSize: 8,
    schedule: { kind: 'multi-step', lr: 0.02, milestones: [64], warmupSteps: 10 },
    momentum: 0.9,
    weightDecay: 5e-4,
    groupScale: {},
    augment: 'none',
    seed: 1,
    validateEvery: 1000,
    checkpointEvery: 1000,
    ...overrides,
  };
}
