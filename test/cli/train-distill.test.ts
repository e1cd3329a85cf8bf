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

describe('ultraface train --teacher … --distill-annotated <iou>', () => {
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
