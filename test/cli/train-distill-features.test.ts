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

describe('ultraface train --teacher … --distill-features <weight>', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-features-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const teacher = sharedPath('reference/upstream/models/pretrained/version-slim-320.pth');

  /** The checkpoint's config and the sums of the epoch's step losses so far. */
  interface RunState {
    readonly config: { readonly distillation: DistillationConfig };
    readonly epochSums: { readonly distillFeatures?: number; readonly distillClassification?: number };
  }
  const state = (out: string): RunState =>
    decodeCheckpoint<RunState>(readFileSync(join(out, 'last.ckpt'))).state;

  it('trains two steps with the feature term, keeps its weight and sums its loss', async () => {
    const out = join(dir, 'run');
    const result = await runCli(
      tinyTrainArgs(out, ['--teacher', teacher, '--distill', '1,0', '--distill-features', '50'], {
        maxSteps: 2,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    const s = state(out);
    assert.deepEqual(s.config.distillation.weights, { classification: 1, regression: 0, features: 50 });
    // A randomly initialised student attends elsewhere than upstream's slim: a positive distance.
    assert.ok((s.epochSums.distillFeatures ?? 0) > 0, JSON.stringify(s.epochSums));
    const plain = join(dir, 'plain');
    assert.equal((await runCli(tinyTrainArgs(plain, ['--teacher', teacher]))).code, 0);
    assert.equal(state(plain).config.distillation.weights.features, undefined);
    assert.equal(state(plain).epochSums.distillFeatures, undefined);
  });

  for (const [name, args] of [
    ['without a teacher', ['--distill-features', '10']],
    ['at weight 0', ['--teacher', teacher, '--distill-features', '0']],
    ['at a negative weight', ['--teacher', teacher, '--distill-features', '-1']],
  ] as const) {
    it(`is refused ${name}, before the run folder is touched`, async () => {
      const out = join(dir, `bad-${name.replaceAll(' ', '-')}`);
      const result = await runCli(tinyTrainArgs(out, [...args]));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /distill-features/);
      assert.equal(existsSync(out), false);
    });
  }
});
