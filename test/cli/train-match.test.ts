import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/cli.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';

describe('ultraface train --match-iou <iou>', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-match-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (out: string): TrainConfig =>
    decodeCheckpoint<{ config: TrainConfig }>(readFileSync(join(out, 'last.ckpt'))).state.config;

  it("trains a step and keeps the threshold in the checkpoint; without it, upstream's matching", async () => {
    const out = join(dir, 'run');
    const result = await runCli(tinyTrainArgs(out, ['--match-iou', '0.2']));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(config(out).matchThreshold, 0.2);
    const plain = join(dir, 'plain');
    assert.equal((await runCli(tinyTrainArgs(plain))).code, 0);
    assert.equal(config(plain).matchThreshold, undefined);
  });

  for (const value of ['0', '1.5', 'x']) {
    it(`refuses --match-iou ${value} before touching the run folder`, async () => {
      const out = join(dir, `bad-${value}`);
      const result = await runCli(tinyTrainArgs(out, ['--match-iou', value]));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /match-iou/);
      assert.equal(existsSync(out), false);
    });
  }
});
