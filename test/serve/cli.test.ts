/**
 * The `serve` command: in-process (startup report, stop, refusals) and as a real process that gets SIGTERM with
 * requests in flight — all answered, exit code 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { runServe } from '../../src/cli/commands/serve.js';
import { startFaceServer, type FaceServer } from '../../src/serve/server.js';
import { runCli } from '../helpers/cli.js';
import { PACKAGE_ROOT } from '../helpers/shared.js';
import { imageBytes, postImage, send, until } from './helpers.js';

const captureIo = () => {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      interactive: false,
    },
  };
};

describe('ultraface serve (command)', () => {
  it('prints the URL, model and limits, serves, and returns 0 when stopped', async () => {
    const { io, out } = captureIo();
    const stop = new AbortController();
    let server: FaceServer | undefined;
    const code = runServe(
      { port: 0, model: 'slim-320', maxBody: '1mb', maxQueue: 8, timeoutMs: 5000, maxBatch: 4 },
      io,
      {
        stop: stop.signal,
        onListening: (s) => {
          server = s;
        },
      },
    );
    await until(() => server !== undefined, 'the server to listen');
    assert.match(out.stdout, new RegExp(`listening on ${server!.url.replace(/[.]/g, '\\.')}`));
    assert.match(out.stdout, /model +slim-320 \(slim, 320x240\)/);
    assert.match(out.stdout, /body 1 MiB, 50000000 pixels, queue 8, timeout 5000 ms/);
    assert.match(out.stdout, /up to 4 images per call/);
    const answer = await postImage(server!.url, imageBytes('13.jpg'));
    assert.equal(answer.status, 200);
    assert.equal((answer.json as { model: string }).model, 'slim-320');
    stop.abort();
    assert.equal(await code, 0);
    assert.match(out.stderr, /stopped/);
  });

  it('refuses bad options and a port in use', async () => {
    const bad = await runCli(['serve', '--max-body', 'lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_INVALID_OPTION.*--max-body/);
    assert.equal((await runCli(['serve', '--port', 'x'])).code, 1);
    const taken = await startFaceServer({ port: 0 });
    try {
      const { io, out } = captureIo();
      assert.equal(await runServe({ port: taken.port }, io), 1);
      assert.match(out.stderr, /cannot listen/);
    } finally {
      await taken.close();
    }
  });

  it('SIGTERM drains the requests in flight (none lost) and exits 0', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(PACKAGE_ROOT, 'src/cli/main.ts'),
        'serve',
        '--port',
        '0',
        '--batch-window-ms',
        '600000', // no batch starts before the signal: every request is still in flight then
      ],
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await until(() => /listening on (http:\/\/\S+)/.test(stdout), `the server to start: ${stderr}`, 60_000);
      const url = /listening on (http:\/\/\S+)/.exec(stdout)![1];
      const names = ['1.jpg', '13.jpg', '26.jpg', '3.jpg', '9.jpg'];
      const pending = names.map((name) => postImage(url, imageBytes(name)));
      // Admitted = counted in the queue depth; with the long window none can be answered before the signal.
      await until(
        async () =>
          new RegExp(`^ultraface_queue_depth ${names.length}$`, 'm').test(
            (await send(`${url}/metrics`)).bytes.toString(),
          ),
        'all requests to be admitted',
        60_000,
      );
      child.kill('SIGTERM');
      const answers = await Promise.all(pending);
      assert.deepEqual(
        answers.map((a) => a.status),
        names.map(() => 200),
      );
      assert.equal(await exited, 0);
      assert.match(stderr, /SIGTERM; draining 5 requests in flight/);
      await assert.rejects(send(`${url}/healthz`));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
