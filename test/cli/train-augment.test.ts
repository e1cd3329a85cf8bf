import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { runCli } from '../helpers/cli.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';

describe('ultraface train --augment <file.json>', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-augment-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const trainArgs = (augment: string, out: string): string[] => tinyTrainArgs(out, ['--augment', augment]);

  it('trains with the options of the file, and stores them in the checkpoint', async () => {
    const options = { preset: 'default', expand: { probability: 0.6, maxRatio: 4 } };
    const file = join(dir, 'zoom-out.json');
    writeFileSync(file, JSON.stringify(options));
    const out = join(dir, 'run');
    const result = await runCli(trainArgs(file, out));
    assert.equal(result.code, 0, result.stderr);
    const { state } = decodeCheckpoint<{ config: { augment: unknown } }>(
      readFileSync(join(out, 'last.ckpt')),
    );
    assert.deepEqual(state.config.augment, options);
  });

  for (const [label, text, message] of [
    ['a field out of range', '{"expand": {"maxRatio": 40}}', /augment\.expand\.maxRatio/],
    ['an unknown field', '{"zoom": 2}', /zoom/],
    ['text that is not JSON', '{"preset":', /could not be read as JSON/],
  ] as const) {
    it(`rejects ${label} with E_INVALID_OPTION before touching the run folder`, async () => {
      const file = join(dir, 'bad.json');
      writeFileSync(file, text);
      const out = join(dir, 'bad-run');
      const result = await runCli(trainArgs(file, out));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /E_INVALID_OPTION/);
      assert.match(result.stderr, message);
      assert.equal(existsSync(out), false);
    });
  }

  it('rejects a missing file', async () => {
    const result = await runCli(trainArgs(join(dir, 'missing.json'), join(dir, 'missing-run')));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /E_INVALID_OPTION.*missing\.json/);
  });
});
