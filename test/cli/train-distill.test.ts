import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import type { DistillationConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';

describe('ultraface train --teacher … --distill-annotated <iou> --distill-datasets <list> --distill-positive-boxes --distill-box-* --teacher-input', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-distill-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const trainArgs = (out: string, ...extra: string[]): string[] =>
    tinyTrainArgs(out, [
      '--teacher',
      sharedPath('reference/upstream/models/pretrained/version-slim-320.pth'),
      ...extra,
    ]);

  it('trains a step with the mask and keeps the setting in the checkpoint', async () => {
    const out = join(dir, 'run');
    const result = await runCli(trainArgs(out, '--distill', '2,1', '--distill-annotated', '0.2'));
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.deepEqual(state.config.distillation.weights, { classification: 2, regression: 1 });
    assert.equal(state.config.distillation.annotatedIou, 0.2);
  });

  it('--distill-datasets keeps the teacher to the numbered --dataset entries (counted from 1)', async () => {
    const out = join(dir, 'run-datasets');
    const result = await runCli(
      trainArgs(out, '--dataset', sharedPath('data/faces-voc'), '--distill-datasets', '2'),
    );
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.deepEqual(state.config.distillation.datasets, [1]);
  });

  it('--distill-positive-boxes trains a step and is kept in the checkpoint', async () => {
    const out = join(dir, 'run-positive-boxes');
    const result = await runCli(trainArgs(out, '--distill-positive-boxes'));
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.equal(state.config.distillation.positiveBoxes, true);
    assert.equal(state.config.distillation.annotatedIou, undefined);
  });

  it('--distill-box-max-prior and --distill-box-min-face train a step and are kept in the checkpoint', async () => {
    const out = join(dir, 'run-box-limits');
    const result = await runCli(
      trainArgs(out, '--distill-box-max-prior', '24', '--distill-box-min-face', '0.3'),
    );
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.equal(state.config.distillation.boxMaxPrior, 24);
    assert.equal(state.config.distillation.boxMinFace, 0.3);
  });

  for (const [name, args, message] of [
    [
      '--distill-box-max-prior 0',
      ['--distill-box-max-prior', '0'],
      /--distill-box-max-prior: expected a prior width/,
    ],
    [
      '--distill-box-min-face 0',
      ['--distill-box-min-face', '0'],
      /--distill-box-min-face: expected a probability/,
    ],
    [
      '--distill-box-min-face 1.2',
      ['--distill-box-min-face', '1.2'],
      /--distill-box-min-face: expected a probability/,
    ],
  ] as const) {
    it(`refuses ${name} before touching the run folder`, async () => {
      const out = join(dir, `bad-box-${name.length}-${args[1]}`);
      const result = await runCli(trainArgs(out, ...args));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, message);
      assert.equal(existsSync(out), false);
    });
  }

  it('--distill-box-datasets keeps the box term to the numbered --dataset entries (counted from 1)', async () => {
    const out = join(dir, 'run-box-datasets');
    const result = await runCli(
      trainArgs(out, '--dataset', sharedPath('data/faces-voc'), '--distill-box-datasets', '2'),
    );
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.deepEqual(state.config.distillation.boxDatasets, [1]);
    assert.equal(state.config.distillation.datasets, undefined);
    for (const [args, message] of [
      [
        ['--distill-box-datasets', '2'],
        /--distill-box-datasets: expected distinct --dataset numbers from 1 to 1/,
      ],
      [
        ['--dataset', sharedPath('data/faces-voc'), '--distill-datasets', '1', '--distill-box-datasets', '2'],
        /--distill-box-datasets: 2 not among --distill-datasets 1/,
      ],
    ] as const) {
      const bad = join(dir, `bad-box-datasets-${args.length}`);
      const refused = await runCli(trainArgs(bad, ...args));
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, message);
      assert.equal(existsSync(bad), false);
    }
  });

  it('refuses the box limits without a --teacher', async () => {
    for (const flag of ['--distill-box-max-prior', '--distill-box-min-face', '--distill-box-datasets']) {
      const out = join(dir, `box-no-teacher${flag}`);
      const result = await runCli(tinyTrainArgs(out, [flag, '1']));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`${flag}: needs a --teacher`));
      assert.equal(existsSync(out), false);
    }
  });

  it('--teacher-input undistorted trains a step and is kept in the checkpoint; other views are refused', async () => {
    const out = join(dir, 'run-undistorted');
    const result = await runCli(trainArgs(out, '--teacher-input', 'undistorted', '--augment', 'upstream'));
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { distillation: DistillationConfig } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.equal(state.config.distillation.input, 'undistorted');
    for (const [args, message] of [
      [
        trainArgs(join(dir, 'in-bad'), '--teacher-input', 'clean'),
        /--teacher-input.*clean.*augmented, undistorted/,
      ],
      [tinyTrainArgs(join(dir, 'in-no-teacher'), ['--teacher-input', 'undistorted']), /needs a --teacher/],
    ] as const) {
      const refused = await runCli([...args]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, message);
    }
    assert.equal(existsSync(join(dir, 'in-bad')), false);
    assert.equal(existsSync(join(dir, 'in-no-teacher')), false);
  });

  it('refuses --distill-positive-boxes without a --teacher, or with --distill-annotated', async () => {
    for (const [args, message] of [
      [tinyTrainArgs(join(dir, 'pb-no-teacher'), ['--distill-positive-boxes']), /needs a --teacher/],
      [
        trainArgs(join(dir, 'pb-annotated'), '--distill-positive-boxes', '--distill-annotated', '0.3'),
        /contradict/,
      ],
    ] as const) {
      const result = await runCli([...args]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, message);
    }
    assert.equal(existsSync(join(dir, 'pb-no-teacher')), false);
    assert.equal(existsSync(join(dir, 'pb-annotated')), false);
  });

  for (const [name, args] of [
    ['a dataset number past the list', ['--distill-datasets', '2']],
    ['a repeated dataset number', ['--distill-datasets', '1,1']],
  ] as const) {
    it(`refuses ${name} before touching the run folder`, async () => {
      const out = join(dir, `bad-datasets-${name.length}`);
      const result = await runCli(trainArgs(out, ...args));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /--distill-datasets: expected distinct --dataset numbers from 1 to 1/);
      assert.equal(existsSync(out), false);
    });
  }

  it('refuses --distill-datasets without a --teacher', async () => {
    const out = join(dir, 'no-teacher');
    const result = await runCli(tinyTrainArgs(out, ['--distill-datasets', '1']));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--distill-datasets: needs a --teacher/);
    assert.equal(existsSync(out), false);
  });

  for (const value of ['0', '1.5', 'x']) {
    it(`refuses --distill-annotated ${value} before touching the run folder`, async () => {
      const out = join(dir, `bad-${value}`);
      const result = await runCli(trainArgs(out, '--distill-annotated', value));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /distill-annotated/);
      assert.equal(existsSync(out), false);
    });
  }
});
