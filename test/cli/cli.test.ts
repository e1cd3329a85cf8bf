import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { readWeightsFile } from '../../src/model/import/weights-file.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { imagePath, referenceImages } from '../helpers/vectors.js';

const pth = (name: string): string => sharedPath(`reference/upstream/models/pretrained/version-${name}.pth`);

describe('ultraface CLI', () => {
  let dir: string;
  let server: Server;
  let baseUrl: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-cli-'));
    // A local stand-in for GitHub: serves upstream's files by name, and a corrupted copy under /bad/.
    server = createServer((request, response) => {
      const match = /^\/(bad\/)?([\w.-]+)$/.exec(request.url ?? '');
      const path = match && join(sharedPath('reference/upstream/models/pretrained'), match[2]);
      if (!path || !existsSync(path)) return response.writeHead(404).end();
      const bytes = readFileSync(path);
      if (match[1]) bytes[1000] ^= 0xff;
      response.writeHead(200).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}/`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('info reports params and FLOPs of upstream weights (SPEC §2.7, §9.2)', async () => {
    const rfb = await runCli(['info', pth('RFB-320')]);
    assert.equal(rfb.code, 0);
    assert.match(rfb.stdout, /net: +RFB, 2 classes/);
    assert.match(rfb.stdout, /params: +276,292/);
    assert.match(rfb.stdout, /FLOPs: +109\.5 M at 320x240/);
    const slim = await runCli([
      'info',
      '--json',
      sharedPath('reference/upstream/models/onnx/version-slim-320.onnx'),
    ]);
    const report = JSON.parse(slim.stdout) as { params: number; priors: number; boxes: string };
    assert.deepEqual([report.params, report.priors, report.boxes], [260_188, 4420, 'decoded']);
  });

  it('imports a .pth and detects with it, as JSON lines and annotated images', async () => {
    const model = join(dir, 'rfb.onnx');
    const imported = await runCli(['import', pth('RFB-320'), '--out', model]);
    assert.equal(imported.code, 0, imported.stderr);
    const out = join(dir, 'annotated');
    const detected = await runCli([
      'detect',
      imagePath('1.jpg'),
      imagePath('13.jpg'),
      '-m',
      model,
      '--json',
      '-o',
      out,
    ]);
    assert.equal(detected.code, 0, detected.stderr);
    const lines = detected.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; faces: unknown[] });
    assert.deepEqual(
      lines.map((l) => l.faces.length),
      ['1.jpg', '13.jpg'].map((n) => referenceImages[n].onnx_RFB_320_detections.length),
    );
    assert.deepEqual(readdirSync(out).sort(), ['1.jpg', '13.jpg']);
    const meta = await sharp(join(out, '1.jpg')).metadata();
    assert.deepEqual([meta.width, meta.height], [720, 478]);
  });

  it('downloads upstream weights, checking the pinned SHA-256', async () => {
    const model = join(dir, 'slim.onnx');
    const ok = await runCli(['import', '--upstream', 'slim-320', '--upstream-url', baseUrl, '--out', model]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(existsSync(model));

    const bad = join(dir, 'bad.onnx');
    const corrupted = await runCli([
      'import',
      '--upstream',
      'slim-320',
      '--upstream-url',
      `${baseUrl}bad/`,
      '--out',
      bad,
    ]);
    assert.equal(corrupted.code, 1);
    assert.match(corrupted.stderr, /E_DOWNLOAD: Expected SHA-256 cd24abce/);
    assert.ok(!existsSync(bad));
    const missing = await runCli([
      'import',
      '--upstream',
      'RFB-640',
      '--upstream-url',
      `${baseUrl}nothing/`,
      '--out',
      bad,
    ]);
    assert.match(missing.stderr, /E_DOWNLOAD/);
    // what was downloaded and checked is upstream's file: the same weights as imported from the local copy
    // (the files differ only in the source they name)
    const local = join(dir, 'slim-local.onnx');
    assert.equal((await runCli(['import', pth('slim-320'), '--out', local])).code, 0);
    const tensors = (file: string): [string, number[]][] =>
      [...readWeightsFile(readFileSync(file)).weights].map(([name, t]) => [name, Array.from(t.data, Number)]);
    assert.deepEqual(tensors(model), tensors(local));
  });

  it('takes upstream weights by name: downloaded once into $ULTRAFACE_CACHE_DIR, then offline', async () => {
    const saved = { cache: process.env.ULTRAFACE_CACHE_DIR, url: process.env.ULTRAFACE_UPSTREAM_URL };
    const cache = join(dir, 'cache');
    process.env.ULTRAFACE_CACHE_DIR = cache;
    process.env.ULTRAFACE_UPSTREAM_URL = baseUrl;
    try {
      const detected = await runCli(['detect', '-m', 'upstream:slim-320', imagePath('2.jpg'), '--json']);
      assert.equal(detected.code, 0, detected.stderr);
      assert.match(detected.stderr, /Downloading version-slim-320\.pth/);
      const line = JSON.parse(detected.stdout) as { faces: unknown[] };
      assert.ok(line.faces.length > 0);
      assert.equal(line.faces.length, referenceImages['2.jpg'].onnx_slim_320_detections.length);
      assert.ok(existsSync(join(cache, 'upstream', 'version-slim-320.pth')));

      // A mirror that is gone: the cache answers.
      process.env.ULTRAFACE_UPSTREAM_URL = 'http://127.0.0.1:9/';
      const info = await runCli(['info', '--json', 'upstream:SLIM-320']);
      assert.equal(info.code, 0, info.stderr);
      assert.doesNotMatch(info.stderr, /Downloading/);
      const report = JSON.parse(info.stdout) as { net: string; inputSize: { width: number; height: number } };
      assert.deepEqual([report.net, report.inputSize], ['slim', { width: 320, height: 240 }]);
      const exported = join(dir, 'upstream-slim-raw.onnx');
      const exportRun = await runCli(['export', 'upstream:slim-320', '--raw', '--out', exported]);
      assert.equal(exportRun.code, 0, exportRun.stderr);
      assert.match(exportRun.stderr, /slim at 320 input, raw box regression/);
      const unknown = await runCli(['detect', '-m', 'upstream:rfb-1280', imagePath('2.jpg')]);
      assert.match(unknown.stderr, /E_INVALID_OPTION: Expected one of upstream:rfb-320/);
    } finally {
      if (saved.cache === undefined) delete process.env.ULTRAFACE_CACHE_DIR;
      else process.env.ULTRAFACE_CACHE_DIR = saved.cache;
      if (saved.url === undefined) delete process.env.ULTRAFACE_UPSTREAM_URL;
      else process.env.ULTRAFACE_UPSTREAM_URL = saved.url;
    }
  });

  it('export changes input size and variant', async () => {
    const source = join(dir, 'rfb.onnx');
    await runCli(['import', pth('RFB-320'), '--out', source]);
    const raw = join(dir, 'rfb-640-raw.onnx');
    const exported = await runCli(['export', source, '--input-size', '640', '--raw', '--out', raw]);
    assert.equal(exported.code, 0, exported.stderr);
    const info = JSON.parse((await runCli(['info', '--json', raw])).stdout) as {
      priors: number;
      boxes: string;
    };
    assert.deepEqual([info.priors, info.boxes], [17_640, 'raw']);
  });

  it('takes a bundled model by name for --model and <model> arguments', async () => {
    const info = await runCli(['info', '--json', 'slim-320']);
    assert.equal(info.code, 0, info.stderr);
    const report = JSON.parse(info.stdout) as { net: string; inputSize: { width: number } };
    assert.deepEqual([report.net, report.inputSize.width], ['slim', 320]);
    const detected = await runCli(['detect', imagePath('5.jpg'), '--model', 'rfb-640', '--json']);
    assert.equal(detected.code, 0, detected.stderr);
    const line = JSON.parse(detected.stdout) as { faces: unknown[] };
    assert.equal(line.faces.length, 1);
    const help = await runCli(['detect', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /rfb-320, rfb-320-int8, rfb-320-raw, slim-320, rfb-640/);
  });

  it('detects with the shipped default model when --model is missing, and rejects bad flags', async () => {
    const noModel = await runCli(['detect', imagePath('5.jpg')]);
    assert.equal(noModel.code, 0, noModel.stderr);
    assert.match(noModel.stdout, /5\.jpg: \d+ faces?\n$/);
    assert.match(noModel.stderr, /\d+ faces? in 1 images?/);
    const badThreshold = await runCli(['detect', imagePath('1.jpg'), '--threshold', 'high']);
    assert.equal(badThreshold.code, 1);
    assert.equal(
      badThreshold.stderr,
      `error: option '-t, --threshold <score>' argument 'high' is invalid. "high" is not a number.\n` +
        '(see ultraface detect --help)\n',
    );
    assert.equal(badThreshold.stdout, '');
    const badSize = await runCli([
      'import',
      pth('RFB-320'),
      '--out',
      join(dir, 'x.onnx'),
      '--input-size',
      '300',
    ]);
    assert.equal(badSize.code, 1);
    assert.equal(
      badSize.stderr,
      "error: option '--input-size <size>' argument '300' is invalid. Allowed choices are 128, 160, 320, 480, " +
        '640, 1280.\n(see ultraface import --help)\n',
    );
    assert.ok(!existsSync(join(dir, 'x.onnx')));
    const nope = join(dir, 'nope.jpg');
    const missingFile = await runCli(['detect', nope]);
    assert.equal(missingFile.code, 1);
    assert.equal(missingFile.stdout, '');
    assert.equal(
      missingFile.stderr,
      `${nope}: E_FILE_NOT_FOUND: No such file or directory: ${nope}\n0 faces in 0 images; 1 image failed\n`,
    );
  });
});
