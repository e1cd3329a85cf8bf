import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/cli.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';

describe('ultraface train --ignore-small-background <list>', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-small-bg-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** The checkpoint's run state: its config and the sums of the epoch's step losses so far. */
  interface RunState {
    readonly config: TrainConfig;
    readonly epochSums: { readonly classification: number; readonly regression: number };
  }
  const state = (out: string): RunState =>
    decodeCheckpoint<RunState>(readFileSync(join(out, 'last.ckpt'))).state;
  const config = (out: string): TrainConfig => state(out).config;

  it('keeps the datasets in the checkpoint, and mines fewer negatives: the same first step loses less', async () => {
    const out = join(dir, 'run');
    const result = await runCli(tinyTrainArgs(out, ['--ignore-small-background', '1']));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(config(out).ignoreSmallBackground, [0]);
    const plain = join(dir, 'plain');
    assert.equal((await runCli(tinyTrainArgs(plain))).code, 0);
    assert.equal(config(plain).ignoreSmallBackground, undefined);
    // Same weights, batch and positives; the hardest negatives are picked from fewer candidates, so the mined
    // classification loss of the first step can only fall, and falls when the small priors held any of them.
    const shielded = state(out).epochSums.classification;
    const mined = state(plain).epochSums.classification;
    assert.ok(shielded < mined, `${shielded} < ${mined}`);
    assert.equal(state(out).epochSums.regression, state(plain).epochSums.regression);
  });

  for (const value of ['0', '2', '1,1', 'x']) {
    it(`refuses --ignore-small-background ${value} with one dataset, before touching the run folder`, async () => {
      const out = join(dir, `bad-${value}`);
      const result = await runCli(tinyTrainArgs(out, ['--ignore-small-background', value]));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /ignore-small-background/);
      assert.equal(existsSync(out), false);
    });
  }
});
