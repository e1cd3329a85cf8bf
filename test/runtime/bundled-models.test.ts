import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  BUNDLED_MODEL_NAMES,
  BUNDLED_MODELS,
  isBundledModelName,
  resolveModelArgument,
} from '../../src/runtime/node/bundled-models.js';

const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

describe('bundled models', () => {
  it('are the ultraface-<name>.onnx files in the package models/ folder, all present', () => {
    assert.deepEqual(BUNDLED_MODEL_NAMES, ['rfb-320', 'rfb-320-int8', 'rfb-320-raw', 'slim-320', 'rfb-640']);
    for (const name of BUNDLED_MODEL_NAMES) {
      assert.equal(BUNDLED_MODELS[name], join(MODELS_DIR, `ultraface-${name}.onnx`));
      assert.ok(existsSync(BUNDLED_MODELS[name]), `${basename(BUNDLED_MODELS[name])} is missing`);
    }
    assert.ok(isBundledModelName('slim-320'));
    assert.ok(!isBundledModelName('toString'), 'inherited keys are not names');
  });

  describe('resolveModelArgument (the CLI --model value)', () => {
    const cwd = process.cwd();
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ultraface-bundled-'));
      process.chdir(dir);
    });
    after(() => {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    });

    it('maps a bundled name to its file and leaves paths alone', () => {
      assert.equal(resolveModelArgument('slim-320'), BUNDLED_MODELS['slim-320']);
      assert.equal(resolveModelArgument('rfb-640'), BUNDLED_MODELS['rfb-640']);
      assert.equal(resolveModelArgument('model.onnx'), 'model.onnx');
      assert.equal(resolveModelArgument('./slim-320'), './slim-320');
      assert.equal(resolveModelArgument('SLIM-320'), 'SLIM-320');
    });

    it('prefers an existing file of the same name', () => {
      writeFileSync('rfb-640', 'not a model');
      assert.equal(resolveModelArgument('rfb-640'), 'rfb-640');
    });
  });
});
