import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { parseUpstreamModelName, UPSTREAM_MODEL_NAMES } from '../../src/model/import/upstream.js';
import { prepareModel } from '../../src/runtime/model-info.js';
import { resolveModelSource, resolveWeightsSource } from '../../src/runtime/node/bundled-models.js';
import { createFaceDetector } from '../../src/runtime/node/detector.js';
import {
  upstreamCacheDir,
  upstreamModelPath,
  upstreamWeightsPath,
  type UpstreamDownloadEvent,
} from '../../src/runtime/node/upstream-cache.js';
import { sharedPath } from '../helpers/shared.js';

const PRETRAINED = 'reference/upstream/models/pretrained';

/**
 * A local stand-in for GitHub (tests never reach the network): upstream's files by name, a corrupted copy under
 * /bad/; counts the requests it answers.
 */
async function serveUpstream(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    const match = /^\/(bad\/)?([\w.-]+)$/.exec(request.url ?? '');
    const path = match && join(sharedPath(PRETRAINED), match[2]);
    if (!path || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    const bytes = readFileSync(path);
    if (match[1]) bytes[1000] ^= 0xff;
    response.writeHead(200).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Every file under `dir`, relative, sorted (temporary files included). */
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((name) => statSync(join(dir, name)).isFile())
        .sort()
    : [];

describe('upstream weights by name (upstream-cache)', () => {
  const saved = { cache: process.env.ULTRAFACE_CACHE_DIR, url: process.env.ULTRAFACE_UPSTREAM_URL };
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ultraface-upstream-cache-'));
  });
  after(() => {
    if (saved.cache === undefined) delete process.env.ULTRAFACE_CACHE_DIR;
    else process.env.ULTRAFACE_CACHE_DIR = saved.cache;
    if (saved.url === undefined) delete process.env.ULTRAFACE_UPSTREAM_URL;
    else process.env.ULTRAFACE_UPSTREAM_URL = saved.url;
    rmSync(root, { recursive: true, force: true });
  });

  it('parses upstream:NAME in any case, leaves other values alone, refuses unknown names', () => {
    assert.deepEqual(UPSTREAM_MODEL_NAMES, [
      'upstream:rfb-320',
      'upstream:rfb-640',
      'upstream:slim-320',
      'upstream:slim-640',
    ]);
    assert.equal(parseUpstreamModelName('upstream:rfb-320'), 'RFB-320');
    assert.equal(parseUpstreamModelName('Upstream:SLIM-640'), 'slim-640');
    assert.equal(parseUpstreamModelName('rfb-320'), undefined);
    assert.equal(parseUpstreamModelName('model.onnx'), undefined);
    assert.throws(
      () => parseUpstreamModelName('upstream:rfb-1280'),
      (error) => isUltrafaceError(error, 'E_INVALID_OPTION') && /upstream:slim-640/.test(error.message),
    );
  });

  it('finds the cache folder in ULTRAFACE_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(upstreamCacheDir({ ULTRAFACE_CACHE_DIR: '/tmp/u', XDG_CACHE_HOME: '/x' }), '/tmp/u');
    assert.equal(upstreamCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/ultraface');
    assert.equal(
      upstreamCacheDir({ ULTRAFACE_CACHE_DIR: '', XDG_CACHE_HOME: 'relative' }),
      join(homedir(), '.cache', 'ultraface'),
    );
    assert.equal(upstreamCacheDir({}), join(homedir(), '.cache', 'ultraface'));
  });

  it('downloads on first use into $ULTRAFACE_CACHE_DIR, then works offline', async () => {
    const cache = join(root, 'env-cache');
    const server = await serveUpstream();
    process.env.ULTRAFACE_CACHE_DIR = cache;
    process.env.ULTRAFACE_UPSTREAM_URL = server.url;
    const events: UpstreamDownloadEvent[] = [];
    let model: string;
    try {
      model = await resolveModelSource('upstream:slim-320', { onDownload: (e) => events.push(e) });
    } finally {
      await server.close();
    }
    const pth = join(cache, 'upstream', 'version-slim-320.pth');
    assert.deepEqual(readFileSync(pth), readFileSync(sharedPath(`${PRETRAINED}/version-slim-320.pth`)));
    assert.deepEqual(
      events.map((e) => [e.weights.name, e.reason, e.path, e.url]),
      [['slim-320', 'missing', pth, `${server.url}version-slim-320.pth`]],
    );
    assert.equal(server.requests(), 1);
    assert.ok(model.startsWith(join(cache, 'upstream', 'version-slim-320.')) && model.endsWith('.onnx'));
    const { model: resolved } = prepareModel(readFileSync(model), undefined, model);
    assert.deepEqual([resolved.net, resolved.inputSize.width, resolved.inputSize.height], ['slim', 320, 240]);
    assert.equal(resolved.boxes, 'decoded');

    // The server is gone: the cache answers, with no download announced.
    assert.equal(await resolveModelSource('UPSTREAM:Slim-320', { onDownload: (e) => events.push(e) }), model);
    assert.equal(await resolveWeightsSource('upstream:slim-320', { onDownload: (e) => events.push(e) }), pth);
    assert.equal(events.length, 1);
    const detector = await createFaceDetector({ model: 'upstream:slim-320' });
    try {
      assert.deepEqual([detector.model.inputSize.width, detector.model.inputSize.height], [320, 240]);
    } finally {
      await detector.dispose();
    }
    const onnxName = basename(model);
    assert.deepEqual(
      filesUnder(cache),
      [onnxName, `${onnxName}.sha256`, 'version-slim-320.pth'].map((name) => join('upstream', name)).sort(),
    );
  });

  it('replaces a corrupted cached .pth, and rebuilds a corrupted cached ONNX offline', async () => {
    const cache = join(root, 'corrupt');
    const server = await serveUpstream();
    const events: UpstreamDownloadEvent[] = [];
    const options = {
      cacheDir: cache,
      baseUrl: server.url,
      onDownload: (e: UpstreamDownloadEvent) => events.push(e),
    };
    let pth: string;
    let model: string;
    try {
      pth = await upstreamWeightsPath('slim-320', options);
      const bytes = readFileSync(pth);
      bytes[5000] ^= 0xff;
      writeFileSync(pth, bytes);
      assert.equal(await upstreamWeightsPath('slim-320', options), pth);
      assert.deepEqual(
        events.map((e) => e.reason),
        ['missing', 'corrupt'],
      );
      assert.deepEqual(readFileSync(pth), readFileSync(sharedPath(`${PRETRAINED}/version-slim-320.pth`)));
      model = await upstreamModelPath('slim-320', options);
    } finally {
      await server.close();
    }
    const good = readFileSync(model);
    const bad = Uint8Array.from(good);
    bad[bad.length - 100] ^= 0xff;
    writeFileSync(model, bad);
    assert.equal(await upstreamModelPath('slim-320', options), model);
    assert.deepEqual(readFileSync(model), good);
    assert.equal(events.length, 2, 'the ONNX is rebuilt from the cached .pth, not downloaded');
    assert.equal(server.requests(), 2);
  });

  it('refuses a download with the wrong SHA-256 (E_DOWNLOAD) and leaves nothing in the cache', async () => {
    const cache = join(root, 'bad');
    const server = await serveUpstream();
    try {
      await assert.rejects(
        resolveModelSource('upstream:slim-320', { cacheDir: cache, baseUrl: `${server.url}bad/` }),
        (error) => isUltrafaceError(error, 'E_DOWNLOAD') && /Expected SHA-256 cd24abce/.test(error.message),
      );
      await assert.rejects(
        upstreamWeightsPath('RFB-640', { cacheDir: cache, baseUrl: `${server.url}nothing/` }),
        (error) => isUltrafaceError(error, 'E_DOWNLOAD'),
      );
    } finally {
      await server.close();
    }
    assert.deepEqual(filesUnder(cache), []);
  });

  it('converts a 640 net at its own input size, 640x480', async () => {
    const server = await serveUpstream();
    try {
      const model = await upstreamModelPath('slim-640', { cacheDir: join(root, 'big'), baseUrl: server.url });
      const { model: resolved } = prepareModel(readFileSync(model), undefined, model);
      assert.deepEqual([resolved.inputSize.width, resolved.inputSize.height], [640, 480]);
    } finally {
      await server.close();
    }
  });
});
