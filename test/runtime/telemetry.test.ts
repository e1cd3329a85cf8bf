import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../helpers/shared.js';
import { imagePath } from '../helpers/vectors.js';

const run = promisify(execFile);

/** Files under `dir`, relative, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));

/**
 * Runs `ultraface detect` in a child process whose HOME and XDG folders are a fresh temporary folder, and returns
 * the files it left there. `CI` is removed from the child's environment: onnxruntime skips its telemetry when
 * `CI` is set, which would hide the files this test looks for.
 */
async function detectWithHome(home: string, extra: Record<string, string> = {}): Promise<string[]> {
  mkdirSync(home, { recursive: true });
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOME: home,
    USERPROFILE: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
    ...extra,
  };
  delete env.CI;
  if (!('ORT_DISABLE_TELEMETRY' in extra)) delete env.ORT_DISABLE_TELEMETRY;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'detect', imagePath('5.jpg'), '--threads', '1'],
    { cwd: PACKAGE_ROOT, env, timeout: 60_000 },
  );
  assert.match(stdout, /5\.jpg: \d+ faces?/);
  return filesUnder(home);
}

// onnxruntime-node 1.30 writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db} on its
// first session unless ORT_DISABLE_TELEMETRY says no; ultraface sets it (src/runtime/node/telemetry.ts).
describe('onnxruntime telemetry', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ultraface-telemetry-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('a detect run leaves no telemetry files in HOME (CI unset)', async () => {
    const files = await detectWithHome(join(root, 'default'));
    assert.deepEqual(
      files.filter((f) => /DeveloperTools|onnxruntime|deviceid/i.test(f)),
      [],
      `files left in HOME: ${files.join(', ')}`,
    );
  });

  it('ORT_DISABLE_TELEMETRY=0 opts back in (and shows the test sees the files when they are written)', async () => {
    const files = await detectWithHome(join(root, 'opt-in'), { ORT_DISABLE_TELEMETRY: '0' });
    assert.ok(
      files.some((f) => f.includes(join('Microsoft', 'DeveloperTools'))),
      `expected onnxruntime's telemetry files, found: ${files.join(', ')}`,
    );
  });
});
