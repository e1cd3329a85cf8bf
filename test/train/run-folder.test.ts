import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { trainingSamplesFromVoc, type TrainingSample } from '../../src/data/training-set.js';
import { readVocDataset } from '../../src/data/voc.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { sharedPath } from '../helpers/shared.js';
import { tinyConfig } from './helpers/tiny.js';

/** One folder, one run (issue #16, point 3): a fresh run never mixes its files with another run's. */
const ONE_STEP = tinyConfig({
  epochs: 1,
  batchSize: 4,
  schedule: { kind: 'multi-step', lr: 0.01, milestones: [10] },
});

describe('training run folders', () => {
  let samples: TrainingSample[];
  let dir: string;
  before(async () => {
    const dataset = await readVocDataset(sharedPath('data/faces-voc'), { split: 'test' });
    samples = trainingSamplesFromVoc(dataset).slice(0, 4);
    dir = mkdtempSync(join(tmpdir(), 'ultraface-run-folder-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a fresh run into a folder holding a finished run is refused, and nothing there changes', async () => {
    const out = join(dir, 'finished');
    await train({ config: ONE_STEP, samples, outDir: out, threads: 1 });
    assert.ok(existsSync(join(out, 'model.onnx')));
    await assert.rejects(
      train({ config: ONE_STEP, samples, outDir: out, threads: 1 }),
      (e: unknown) =>
        isUltrafaceError(e) &&
        e.code === 'E_INVALID_OPTION' &&
        /--resume/.test(e.message) &&
        /--overwrite/.test(e.message),
    );
  });

  it('--overwrite clears the old run files first (no stale best.* or model.onnx survives)', async () => {
    const out = join(dir, 'replaced');
    await train({ config: ONE_STEP, samples, outDir: out, threads: 1 });
    writeFileSync(join(out, 'best.onnx'), 'stale');
    await train({
      config: { ...ONE_STEP, batchSize: 2 }, // 2 steps an epoch: stopped mid-epoch
      samples,
      outDir: out,
      threads: 1,
      overwrite: true,
      maxSteps: 1,
    });
    assert.ok(existsSync(join(out, 'last.ckpt')));
    for (const stale of ['best.onnx', 'model.onnx', 'history.json'])
      assert.ok(!existsSync(join(out, stale)), stale);
  });

  it('keepValidated keeps each validated epoch as epoch-<n>.ckpt; --overwrite clears them too', async () => {
    const out = join(dir, 'kept');
    // 4 epochs of one step, validated after epochs 1 and 3 (every 2nd from the first) and 4 (the last).
    await train({
      config: { ...ONE_STEP, epochs: 4, validateEvery: 2 },
      samples,
      outDir: out,
      threads: 1,
      keepValidated: true,
    });
    assert.deepEqual(
      readdirSync(out)
        .filter((f) => f.startsWith('epoch-'))
        .sort(),
      ['epoch-1.ckpt', 'epoch-3.ckpt', 'epoch-4.ckpt'],
    );
    const weightsOf = async (file: string) => (await loadCheckpoint(join(out, file))).tensors;
    const [epoch1, epoch4, last] = await Promise.all(
      ['epoch-1.ckpt', 'epoch-4.ckpt', 'last.ckpt'].map(weightsOf),
    );
    const name = 'base_net.0.0.weight';
    assert.deepEqual(epoch4.get(name)?.data, last.get(name)?.data);
    assert.notDeepEqual(epoch1.get(name)?.data, last.get(name)?.data);

    await train({ config: ONE_STEP, samples, outDir: out, threads: 1, overwrite: true });
    assert.deepEqual(
      readdirSync(out).filter((f) => f.startsWith('epoch-')),
      [],
    );
  });

  it('--resume without a checkpoint is an error, not a silent fresh run', async () => {
    const out = join(dir, 'empty');
    await assert.rejects(
      train({ config: ONE_STEP, samples, outDir: out, threads: 1, resume: true }),
      (e: unknown) => isUltrafaceError(e) && e.code === 'E_CHECKPOINT' && e.message.includes('last.ckpt'),
    );
    assert.ok(!existsSync(join(out, 'last.ckpt')));
  });
});
