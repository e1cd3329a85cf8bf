// The tests' reference data: ../shared beside the repository, or the folder ULTRAFACE_SHARED names (README, Test).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../helpers/shared.js';

/** SHARED_DIR and the error of a missing fixture, as a fresh process with `env` sees them. */
async function sharedDirWith(
  env: Record<string, string | undefined>,
): Promise<{ dir: string; missing: string }> {
  const script =
    "const m = await import('./test/helpers/shared.ts'); let missing = '';" +
    "try { m.sharedPath('no/such/file'); } catch (e) { missing = e.message; }" +
    'console.log(JSON.stringify({ dir: m.SHARED_DIR, missing }));';
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: PACKAGE_ROOT, env: { ...process.env, ...env } },
  );
  return JSON.parse(stdout) as { dir: string; missing: string };
}

describe('the reference data folder of the tests', () => {
  it('is ../shared beside the repository by default', async () => {
    const { dir, missing } = await sharedDirWith({ ULTRAFACE_SHARED: undefined });
    assert.equal(dir, resolve(PACKAGE_ROOT, '../shared'));
    assert.match(missing, /set ULTRAFACE_SHARED to use another/);
  });

  it('is the folder ULTRAFACE_SHARED names', async () => {
    const elsewhere = join(tmpdir(), 'ultraface-shared-elsewhere');
    const { dir, missing } = await sharedDirWith({ ULTRAFACE_SHARED: elsewhere });
    assert.equal(dir, elsewhere);
    assert.match(missing, /ULTRAFACE_SHARED=/);
  });
});
