// Issue #16: what the CLI says when it is given the wrong thing, and inputs it should simply take.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { runCli, type CliResult } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { imagePath, referenceImages } from '../helpers/vectors.js';

const PRETRAINED = 'reference/upstream/models/pretrained';
const pth = (name: string): string => sharedPath(`${PRETRAINED}/version-${name}.pth`);
const YUNET = (): string => sharedPath('reference/peers/yunet_n_320_320.onnx');

/** The CLI's error line, asserted to be a coded UltrafaceError and not a stack trace. */
function failure(result: CliResult, code: string): string {
  assert.equal(result.code, 1, `expected exit 1 with ${code}, got ${result.code}: ${result.stderr}`);
  assert.match(result.stderr, new RegExp(`^ultraface: ${code}: `, 'm'));
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  return result.stderr;
}

interface InfoReport {
  file: string;
  bytes: number;
  net: string;
  inputSize: { width: number; height: number } | null;
  trainedSize: { width: number; height: number } | null;
  params: number;
}

const info = async (model: string): Promise<InfoReport> => {
  const result = await runCli(['info', '--json', model]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as InfoReport;
};

describe('CLI messages and inputs (issue #16)', () => {
  let dir: string;
  let voc: string;
  let server: Server;
  let baseUrl: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-messages-'));
    // A one-image VOC test split (the image from ../shared, copied into the temporary folder only).
    voc = join(dir, 'voc');
    for (const sub of ['JPEGImages', 'Annotations', 'ImageSets/Main'])
      mkdirSync(join(voc, sub), { recursive: true });
    copyFileSync(imagePath('5.jpg'), join(voc, 'JPEGImages/5.jpg'));
    const { width, height, onnx_RFB_320_detections: faces } = referenceImages['5.jpg'];
    const objects = faces
      .map(
        ([x1, y1, x2, y2]) =>
          `<object><name>face</name><difficult>0</difficult><bndbox><xmin>${x1 + 1}</xmin><ymin>${y1 + 1}</ymin>` +
          `<xmax>${x2 + 1}</xmax><ymax>${y2 + 1}</ymax></bndbox></object>`,
      )
      .join('');
    writeFileSync(
      join(voc, 'Annotations/5.xml'),
      `<annotation><size><width>${width}</width><height>${height}</height></size>${objects}</annotation>`,
    );
    writeFileSync(join(voc, 'ImageSets/Main/test.txt'), '5\n');
    // A mirror that serves upstream's files under /mirror/ only, to tell a kept path segment from a lost one.
    server = createServer((request, response) => {
      const match = /^\/mirror\/([\w.-]+)$/.exec(request.url ?? '');
      if (!match) return response.writeHead(404).end();
      try {
        response.writeHead(200).end(readFileSync(join(sharedPath(PRETRAINED), match[1])));
      } catch {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('import --upstream-url (point 5)', () => {
    const importSlim = (url: string, out: string): Promise<CliResult> =>
      runCli(['import', '--upstream', 'slim-320', '--upstream-url', url, '-o', join(dir, out)]);

    it('takes a local folder, with or without a trailing slash, and a file: URL', async () => {
      const folder = dirname(pth('slim-320'));
      for (const [url, out] of [
        [folder, 'folder.onnx'],
        [`${folder}/`, 'folder-slash.onnx'],
        [pathToFileURL(folder).href, 'file-url.onnx'],
      ]) {
        const result = await importSlim(url, out);
        assert.equal(result.code, 0, `${url}: ${result.stderr}`);
        assert.equal((await info(join(dir, out))).net, 'slim');
      }
    });

    it('keeps the last path segment of an http URL without a trailing slash', async () => {
      const result = await importSlim(`${baseUrl}/mirror`, 'http.onnx');
      assert.equal(result.code, 0, result.stderr);
    });

    it('reports a missing file and an unsupported scheme as coded errors', async () => {
      assert.match(failure(await importSlim(join(dir, 'no-such-folder'), 'x.onnx'), 'E_DOWNLOAD'), /ENOENT/);
      assert.match(
        failure(await importSlim('ftp://example.com/models/', 'x.onnx'), 'E_INVALID_OPTION'),
        /http\(s\) or file: URL or a folder/,
      );
    });
  });

  describe('messages that say what is wrong (point 12)', () => {
    it('a non-ultraface ONNX model is named as such by info, export and quantize', async () => {
      for (const args of [
        ['info', YUNET()],
        ['export', YUNET(), '-o', join(dir, 'yunet.onnx')],
        ['quantize', YUNET(), '--calibration', voc, '-o', join(dir, 'yunet-int8.onnx')],
      ]) {
        const message = failure(await runCli(args), 'E_WEIGHTS_FORMAT');
        assert.match(message, /is not an Ultra-Light SSD face detector .*outputs are cls_8, cls_16/);
        assert.doesNotMatch(message, /renamed|_simplified/);
      }
    });

    it('an int8 model is named as such by export and by eval --protocol vga', async () => {
      const exported = failure(
        await runCli(['export', 'rfb-320-int8', '-o', join(dir, 'int8.onnx')]),
        'E_WEIGHTS_FORMAT',
      );
      assert.match(exported, /is an int8 \(quantized\) model/);
      assert.doesNotMatch(exported, /renamed|_simplified/);
      const evaluated = failure(
        await runCli(['eval', '-m', 'rfb-320-int8', '--protocol', 'vga', '--voc', voc]),
        'E_INVALID_OPTION',
      );
      assert.match(evaluated, /any input size for protocol vga .* is an int8 model, fixed at the input size/);
    });

    it('info on a folder says it is a folder', async () => {
      assert.match(failure(await runCli(['info', dir]), 'E_INVALID_OPTION'), /is a folder/);
    });

    it('a mistyped model name lists the names --model takes', async () => {
      for (const args of [
        ['info', 'rfb-999'],
        ['detect', imagePath('5.jpg'), '-m', 'rfb-999'],
      ]) {
        const message = failure(await runCli(args), 'E_FILE_NOT_FOUND');
        assert.match(message, /rfb-999.*bundled: rfb-320, rfb-320-int8, rfb-320-raw, slim-320, rfb-640/);
      }
    });

    it('convert-widerface into a non-empty folder points at --overwrite', async () => {
      const out = join(dir, 'not-empty');
      mkdirSync(out);
      writeFileSync(join(out, 'keep.txt'), 'x');
      const message = failure(
        await runCli(['convert-widerface', '--images', dir, '--annotations', join(dir, 'gt.txt'), '-o', out]),
        'E_INVALID_OPTION',
      );
      assert.match(message, /--overwrite/);
      assert.doesNotMatch(message, /overwrite: true/);
    });

    it('detect takes a .pth weights file for --model, as eval and quantize do', async () => {
      const result = await runCli(['detect', imagePath('1.jpg'), '-m', pth('RFB-320'), '--json']);
      assert.equal(result.code, 0, result.stderr);
      const line = JSON.parse(result.stdout) as { faces: unknown[] };
      assert.equal(line.faces.length, referenceImages['1.jpg'].onnx_RFB_320_detections.length);
    });
  });

  it("a local copy of upstream's 640 weights imports at 640x480, as --upstream does (point 14)", async () => {
    const local = join(dir, 'local-slim-640.onnx');
    const localRun = await runCli(['import', pth('slim-640'), '-o', local]);
    assert.equal(localRun.code, 0, localRun.stderr);
    const downloaded = join(dir, 'upstream-slim-640.onnx');
    const upstreamRun = await runCli([
      'import',
      '--upstream',
      'slim-640',
      '--upstream-url',
      `${baseUrl}/mirror/`,
      '-o',
      downloaded,
    ]);
    assert.equal(upstreamRun.code, 0, upstreamRun.stderr);
    const [a, b] = [await info(local), await info(downloaded)];
    assert.deepEqual(a.inputSize, { width: 640, height: 480 });
    assert.deepEqual(a.trainedSize, { width: 640, height: 480 });
    assert.deepEqual(a, { ...b, file: a.file, bytes: a.bytes });
  });

  it('eval without --model measures the default model, as detect does (point 15)', async () => {
    const result = await runCli(['eval', '--voc', voc]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /AP: +\d\.\d{4}/);
  });
});
