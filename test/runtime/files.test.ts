import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/runtime/node/files.js';

describe('writeFileAtomic', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-files-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a file whose name is near the 255-byte limit (faces-voc has 244-byte names), leaving nothing else', async () => {
    const name = `${'x'.repeat(250)}.xml`;
    await writeFileAtomic(join(dir, name), '<annotation/>');
    assert.equal(readFileSync(join(dir, name), 'utf8'), '<annotation/>');
    assert.deepEqual(readdirSync(dir), [name]);
  });

  it('replaces an existing file whole, creates missing folders, and fails with E_IO leaving nothing', async () => {
    const path = join(dir, 'a', 'b', 'c.txt');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    assert.equal(readFileSync(path, 'utf8'), 'two');
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    await assert.rejects(writeFileAtomic(join(file, 'x.txt'), 'y'), (e: unknown) =>
      isUltrafaceError(e, 'E_IO'),
    );
    await assert.rejects(writeFileAtomic(join(dir, `${'y'.repeat(300)}.txt`), 'y'), (e: unknown) =>
      isUltrafaceError(e, 'E_IO'),
    );
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'plain', `${'x'.repeat(250)}.xml`].sort());
  });
});
