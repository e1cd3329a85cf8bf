import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/cli.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';

describe('ultraface train --train-only <prefixes>', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-only-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains a step and keeps the prefixes in the checkpoint (a resume trains the same layers)', async () => {
    const out = join(dir, 'run');
    const result = await runCli(tinyTrainArgs(out, ['--train-only', 'base_net.7, classification_headers.0']));
    assert.equal(result.code, 0, result.stderr);
    const { config } = decodeCheckpoint<{ config: TrainConfig }>(readFileSync(join(out, 'last.ckpt'))).state;
    assert.deepEqual(config.trainOnly, ['base_net.7', 'classification_headers.0']);
  });

  it('refuses a prefix that names no layer, with E_INVALID_OPTION, before writing a run folder', async () => {
    const out = join(dir, 'bad');
    const result = await runCli(tinyTrainArgs(out, ['--train-only', 'base_net.7,base_net.77']));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_INVALID_OPTION: .*no parameter is under base_net\.77/);
    assert.equal(existsSync(out), false);
  });
});
