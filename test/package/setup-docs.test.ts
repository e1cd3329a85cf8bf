// Issue #16, points 17 and 19: installing without onnxruntime-node's CUDA download, and what the README promises.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../helpers/shared.js';

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
/** The README's `## name` section, up to the next `## `. */
const section = (name: string): string => {
  const start = readme.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `README has no "## ${name}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};

describe('install settings and the README', () => {
  it('npm reads no package-specific project config (no "Unknown project config" warning)', async () => {
    const npmrc = join(PACKAGE_ROOT, '.npmrc');
    if (existsSync(npmrc)) assert.doesNotMatch(readFileSync(npmrc, 'utf8'), /onnxruntime-node-install/);
    const { stderr } = await promisify(execFile)('npm', ['pkg', 'get', 'name'], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    assert.doesNotMatch(stderr, /Unknown project config/);
  });

  it('users and CI skip the CUDA download with ONNXRUNTIME_NODE_INSTALL=skip', () => {
    assert.match(section('Set up'), /ONNXRUNTIME_NODE_INSTALL=skip npm install ultraface/);
    assert.match(section('Test'), /ONNXRUNTIME_NODE_INSTALL=skip npm ci/);
    assert.match(
      readFileSync(join(PACKAGE_ROOT, '.ci/run'), 'utf8'),
      /^export ONNXRUNTIME_NODE_INSTALL=skip$/m,
    );
  });

  it('Set up names the bundled model for group photos', () => {
    assert.match(section('Set up'), /\*\*Group photos:\*\* `rfb-640` finds the most faces in crowds/);
  });

  it('the train example validates on a folder that has the test split', () => {
    const train = section('Train');
    const [command] = /npx ultraface train [^\n]*/.exec(train) ?? [''];
    const valDataset = /--val-dataset (\S+)/.exec(command)?.[1];
    const dataset = /--dataset (\S+)/.exec(command)?.[1];
    assert.ok(valDataset && dataset, command);
    // convert-widerface writes one split per folder: trainval from train annotations, test from val ones.
    assert.notEqual(valDataset, dataset);
    assert.match(train, new RegExp(`wider_face_val_bbx_gt\\.txt -o ${valDataset.replace(/[/.]/g, '\\$&')}`));
  });

  it('does not say that info refuses int8 models, and says how to point the tests at other reference data', () => {
    assert.doesNotMatch(
      readme,
      /`ultraface info` and the aspect-keeping\s+eval protocols .* do not take int8/s,
    );
    assert.match(section('Test'), /ULTRAFACE_SHARED/);
  });
});
