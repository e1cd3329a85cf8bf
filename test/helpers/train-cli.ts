import { sharedPath } from './shared.js';

/**
 * `ultraface train` arguments for a run that takes seconds: slim at 128x96 on faces-voc test, one thread, batch 2,
 * one step (override with `options`), then `extra`, then `-o out`.
 */
export function tinyTrainArgs(
  out: string,
  extra: readonly string[] = [],
  options: { readonly batchSize?: number; readonly maxSteps?: number } = {},
): string[] {
  return [
    'train',
    '--dataset',
    sharedPath('data/faces-voc'),
    '--split',
    'test',
    '--net',
    'slim',
    '--input-size',
    '128',
    '--epochs',
    '1',
    '--batch-size',
    String(options.batchSize ?? 2),
    '--max-steps',
    String(options.maxSteps ?? 1),
    '--threads',
    '1',
    ...extra,
    '-o',
    out,
  ];
}
