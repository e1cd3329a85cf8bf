// The package's `ultraface` bin, run as `npx ultraface` runs it: the file itself, not `node <file>`.
// npx only marks a bin executable when it first links the package into its cache, so the build must do it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../helpers/shared.js';
import { imagePath } from '../helpers/vectors.js';

const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: { ultraface: string };
};
const binPath = join(PACKAGE_ROOT, manifest.bin.ultraface);

describe('the ultraface bin (built by npm ci / npm run build)', () => {
  it('is an executable file with a node shebang', () => {
    const stat = statSync(binPath, { throwIfNoEntry: false });
    assert.ok(stat, `${binPath} is missing: run npm run build`);
    assert.ok(stat.isFile());
    assert.ok(readFileSync(binPath, 'utf8').startsWith('#!/usr/bin/env node\n'));
    if (process.platform !== 'win32') assert.equal(stat.mode & 0o111, 0o111, `${binPath} is not executable`);
  });

  it('runs as a program and prints the package version', async () => {
    const { stdout } = await promisify(execFile)(binPath, ['--version'], {
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    assert.equal(stdout.trim(), manifest.version);
  });

  it("detects faces with the bundled default model, as a user's first command does", async () => {
    const { stdout } = await promisify(execFile)(binPath, ['detect', '--json', imagePath('5.jpg')], {
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    const line = JSON.parse(stdout) as { file: string; faces: { score: number }[] };
    assert.equal(line.file, imagePath('5.jpg'));
    assert.equal(line.faces.length, 1); // one woman at a desk
    assert.ok(line.faces[0].score > 0.9);
  });
});
