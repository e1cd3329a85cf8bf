import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { runCli } from '../helpers/cli.js';
import { PACKAGE_ROOT } from '../helpers/shared.js';
import { imagePath } from '../helpers/vectors.js';

const linux = process.platform === 'linux';
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const jsonLines = (text: string): { file: string; faces?: unknown[]; error?: { code: string } }[] =>
  lines(text).map(
    (line) => JSON.parse(line) as { file: string; faces?: unknown[]; error?: { code: string } },
  );

describe('detect: nothing lost, nothing hung (#16)', () => {
  let dir: string;
  /** 5.jpg and 6.jpg at 320 px wide: quick to decode. */
  let smallA: string;
  let smallB: string;
  let bytesA: Buffer;
  const folder = (name: string): string => {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-detect-'));
    smallA = join(dir, 'a.jpg');
    smallB = join(dir, 'b.jpg');
    bytesA = await sharp(imagePath('5.jpg')).resize(320).jpeg().toBuffer();
    writeFileSync(smallA, bytesA);
    await sharp(imagePath('6.jpg')).resize(320).jpeg().toFile(smallB);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('1. never writes over an input: an --out holding the inputs is refused with E_INVALID_OPTION', async () => {
    const photos = folder('overwrite');
    copyFileSync(smallA, join(photos, '5.jpg'));
    copyFileSync(smallB, join(photos, '6.jpg'));
    const hashes = readdirSync(photos).map((name) => sha(join(photos, name)));
    const refused = await runCli(['detect', '-o', photos, photos]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^ultraface: E_INVALID_OPTION: Expected an --out folder that holds no input image/m,
    );
    assert.equal(refused.stdout, '');
    assert.deepEqual(
      readdirSync(photos).map((name) => sha(join(photos, name))),
      hashes,
    );
    // The same file by another path (a symbolic link in --out) is the same input.
    const out = folder('overwrite-link');
    symlinkSync(join(photos, '5.jpg'), join(out, 'x.jpg'));
    const linked = await runCli(['detect', '-o', out, join(photos, '5.jpg'), '--json']);
    assert.equal(linked.code, 0, linked.stderr); // 5.jpg → out/5.jpg: not x.jpg
    const viaLink = await runCli(['detect', '-o', out, join(out, 'x.jpg')]);
    assert.match(viaLink.stderr, /E_INVALID_OPTION/);
    assert.deepEqual(sha(join(photos, '5.jpg')), hashes[0]);
  });

  it('1. mirrors sub-folders and gives clashing names -2, -3 (a/x.jpg b/x.jpg)', async () => {
    copyFileSync(smallA, join(folder('clash/a'), 'x.jpg'));
    copyFileSync(smallB, join(folder('clash/b'), 'x.jpg'));
    copyFileSync(smallA, join(folder('clash/c/sub'), 'y.jpg'));
    const out = join(dir, 'clash-out');
    const result = await runCli([
      'detect',
      join(dir, 'clash/a/x.jpg'),
      join(dir, 'clash/b/x.jpg'),
      join(dir, 'clash/c'),
      '-o',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(out, { recursive: true }).sort(), ['sub', 'sub/y.jpg', 'x-2.jpg', 'x.jpg']);
    const heights = await Promise.all(
      ['x.jpg', 'x-2.jpg'].map(async (name) => (await sharp(join(out, name)).metadata()).height),
    );
    assert.deepEqual(heights, [
      (await sharp(smallA).metadata()).height,
      (await sharp(smallB).metadata()).height,
    ]);
    assert.match(result.stderr, /; annotated images in /);
  });

  it(
    '2. an impossible --out fails at once with E_IO (a file in the path; procfs)',
    { timeout: 60_000 },
    async () => {
      const underFile = await runCli(['detect', smallA, '-o', join(smallA, 'sub')]);
      assert.equal(underFile.code, 1);
      assert.match(
        underFile.stderr,
        /^ultraface: E_IO: Cannot create folder .*a\.jpg is a file, not a folder/m,
      );
      assert.equal(underFile.stdout, '');
      if (!linux) return;
      // Node's recursive mkdir retries /proc/uf forever (ENOENT under an existing folder).
      const proc = await runCli(['detect', smallA, '-o', '/proc/uf']);
      assert.equal(proc.code, 1);
      assert.match(proc.stderr, /^ultraface: E_IO: Cannot create folder \/proc\/uf/m);
      const exported = await runCli(['export', 'rfb-320', '-o', '/proc/uf/x.onnx']);
      assert.equal(exported.code, 1);
      assert.match(exported.stderr, /E_IO: Cannot create folder \/proc\/uf/);
    },
  );

  it(
    '4. stops quietly, exit 0, when stdout is closed (detect --json … | head -1)',
    { timeout: 60_000 },
    async () => {
      // The second image comes on stdin only after stdout is closed, so its line is sure to hit a closed pipe.
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'detect', '--json', smallA, '-'],
        {
          cwd: PACKAGE_ROOT,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const first = await new Promise<string>((resolve) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        child.on('close', () => {
          resolve(out);
        });
      });
      child.stdout.destroy();
      child.stdin.end(bytesA);
      const code = await closed;
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      assert.equal(jsonLines(first)[0].file, smallA);
    },
  );

  it('6. a missing file is reported in its place, the rest run, exit 1 at the end', async () => {
    const missing = join(dir, 'nope.jpg');
    const json = await runCli(['detect', '--json', smallA, missing, smallB]);
    assert.equal(json.code, 1);
    const rows = jsonLines(json.stdout);
    assert.deepEqual(
      rows.map((r) => r.file),
      [smallA, missing, smallB],
    );
    assert.ok(Array.isArray(rows[0].faces) && Array.isArray(rows[2].faces));
    assert.deepEqual(rows[1], {
      file: missing,
      error: { code: 'E_FILE_NOT_FOUND', message: `No such file or directory: ${missing}` },
    });
    const text = await runCli(['detect', smallA, missing, smallB]);
    assert.equal(text.code, 1);
    assert.deepEqual(
      lines(text.stdout).map((l) => l.split(':')[0]),
      [smallA, smallB],
    );
    assert.match(text.stderr, new RegExp(`^${missing}: E_FILE_NOT_FOUND: `, 'm'));
    assert.match(text.stderr, /^\d+ faces? in 2 images; 1 image failed$/m);
  });

  it(
    '8. an unwritable --out: detections still printed, the summary says nothing was written',
    { skip: !linux },
    async () => {
      // /proc exists, but no file can be created in it.
      const text = await runCli(['detect', smallA, smallB, '-o', '/proc']);
      assert.equal(text.code, 1);
      assert.deepEqual(
        lines(text.stdout).map((l) => l.replace(/\d+ faces?$/, 'N')),
        [`${smallA}: N`, `${smallB}: N`],
      );
      assert.equal(text.stderr.match(/: E_IO: Cannot write \/proc\//g)?.length, 2);
      const faces = lines(text.stdout).reduce((sum, l) => sum + Number(/(\d+) faces?$/.exec(l)?.[1]), 0);
      const summary = lines(text.stderr).at(-1);
      assert.equal(
        summary,
        `${faces} face${faces === 1 ? '' : 's'} in 2 images; no annotated images written`,
      );
      const json = await runCli(['detect', '--json', smallA, '-o', '/proc']);
      const [row] = jsonLines(json.stdout);
      assert.ok(Array.isArray(row.faces));
      assert.equal(row.error?.code, 'E_IO');
    },
  );

  it('8. GIF, TIFF and AVIF inputs are annotated as PNG', async () => {
    const formats = folder('formats');
    await sharp(smallA).gif().toFile(join(formats, 'g.gif'));
    await sharp(smallA).png().toFile(join(formats, 'g.png'));
    await sharp(smallA).tiff().toFile(join(formats, 't.tiff'));
    await sharp(smallA).resize(160).avif({ effort: 0 }).toFile(join(formats, 'v.avif'));
    const out = join(dir, 'formats-out');
    const result = await runCli(['detect', formats, '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['g-2.png', 'g.png', 't.png', 'v.png']);
    for (const name of readdirSync(out))
      assert.equal((await sharp(join(out, name)).metadata()).format, 'png');
  });

  it('9. reads an image from stdin (-) and from a FIFO; --help says so', { timeout: 60_000 }, async () => {
    const fromFile = jsonLines((await runCli(['detect', '--json', smallA])).stdout)[0];
    const stdin = await runCli(['detect', '--json', '-', '-o', join(dir, 'stdin-out')], { stdin: bytesA });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.deepEqual(jsonLines(stdin.stdout)[0], { ...fromFile, file: '-' });
    assert.deepEqual(readdirSync(join(dir, 'stdin-out')), ['stdin.png']);
    const help = await runCli(['detect', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /or - for one image on stdin/);
    assert.match(help.stdout, /^Inputs: - reads one image from stdin/m);
    if (!linux) return;
    const fifo = join(dir, 'image.fifo');
    execFileSync('mkfifo', [fifo]);
    const writing = writeFile(fifo, bytesA); // blocks (in the thread pool) until the CLI opens the FIFO
    const fromFifo = await runCli(['detect', '--json', fifo, '-o', join(dir, 'fifo-out')]);
    closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)); // frees the writer if the CLI never read
    await writing.catch(() => undefined);
    assert.equal(fromFifo.code, 0, fromFifo.stderr);
    assert.deepEqual(jsonLines(fromFifo.stdout)[0], { ...fromFile, file: fifo });
    assert.deepEqual(readdirSync(join(dir, 'fifo-out')), ['image.png']);
  });

  it('10. folders: symbolic links followed, .bmp not searched, an empty folder warns', async () => {
    const links = folder('links');
    symlinkSync(smallA, join(links, 'a.jpg'));
    symlinkSync(smallB, join(links, 'b.jpg'));
    const linked = await runCli(['detect', links]);
    assert.equal(linked.code, 0, linked.stderr);
    assert.equal(lines(linked.stdout).length, 2);
    assert.match(linked.stderr, / in 2 images$/m);

    const broken = folder('broken-link');
    symlinkSync(join(dir, 'gone.jpg'), join(broken, 'gone.jpg'));
    const brokenRun = await runCli(['detect', broken, smallA]);
    assert.equal(brokenRun.code, 1);
    assert.match(brokenRun.stderr, /gone\.jpg: E_FILE_NOT_FOUND: Broken symbolic link/);

    const bmp = folder('bmp');
    copyFileSync(smallA, join(bmp, 'a.jpg'));
    writeFileSync(join(bmp, 'b.bmp'), Buffer.from('BM not really a bitmap'));
    const withBmp = await runCli(['detect', bmp]);
    assert.equal(withBmp.code, 0, withBmp.stderr);
    assert.match(withBmp.stderr, / in 1 image$/m);

    const empty = folder('empty');
    writeFileSync(join(empty, 'notes.txt'), 'no images here');
    const nothing = await runCli(['detect', empty]);
    assert.equal(nothing.code, 1);
    assert.match(
      nothing.stderr,
      new RegExp(`^warning: ${empty}: no images \\(\\.jpg, .*\\) in this folder or below it$`, 'm'),
    );
    assert.match(nothing.stderr, /^No images found: nothing was processed$/m);
    const partly = await runCli(['detect', empty, smallA]);
    assert.equal(partly.code, 0, partly.stderr);
    assert.match(partly.stderr, /^warning: .*no images/m);
  });

  it('11. in a terminal, a line per image is printed above the progress bar', async () => {
    const result = await runCli(['detect', smallA, join(dir, 'nope.jpg'), smallB], { tty: true });
    assert.equal(result.code, 1);
    assert.deepEqual(
      lines(result.stdout).map((l) => l.replace(/\d+ faces?$/, 'N')),
      [`${smallA}: N`, `${smallB}: N`],
    );
    assert.match(result.stderr, /detect .*3\/3/); // the bar
    assert.match(result.stderr, /nope\.jpg: E_FILE_NOT_FOUND/);
    assert.match(result.stderr, / in 2 images; 1 image failed\n$/);
  });

  it('13. singular and plural: "1 face in 1 image"', async () => {
    const one = await runCli(['detect', imagePath('5.jpg')]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `${imagePath('5.jpg')}: 1 face\n`);
    assert.equal(one.stderr, '1 face in 1 image\n');
  });

  it('13. a bad option value prints one error line and a hint, not the whole help; --top-k -1 is refused', async () => {
    const bad = await runCli(['detect', smallA, '--threshold', 'high']);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      `error: option '-t, --threshold <score>' argument 'high' is invalid. "high" is not a number.\n` +
        '(see ultraface detect --help)\n',
    );
    const topK = await runCli(['detect', smallA, '--top-k', '-1']);
    assert.equal(topK.code, 1);
    assert.equal(
      topK.stderr,
      `error: option '--top-k <n>' argument '-1' is invalid. "-1" is negative.\n(see ultraface detect --help)\n`,
    );
    assert.equal(topK.stdout, '');
    const unknown = await runCli(['info', 'rfb-320', '--jsn']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: unknown option '--jsn'/);
    assert.match(unknown.stderr, /\(see ultraface info --help\)\n$/);
    assert.doesNotMatch(unknown.stderr, /Usage:/);
  });

  it('13. a HEIC that cannot be decoded is reported on one line', async () => {
    // An AVIF relabelled as HEVC: libheif refuses it, after a "bad seek" line per probe.
    const heic = Buffer.from(await sharp(smallA).resize(64).avif({ effort: 0 }).toBuffer());
    for (const [from, to] of [
      ['avif', 'heic'],
      ['av01', 'hvc1'],
    ]) {
      for (let i = heic.indexOf(from); i >= 0; i = heic.indexOf(from)) heic.write(to, i, 'latin1');
    }
    const path = join(dir, 'photo.heic');
    writeFileSync(path, heic);
    const result = await runCli(['detect', path, smallA]);
    assert.equal(result.code, 1);
    const [line, ...rest] = lines(result.stderr);
    assert.match(line, new RegExp(`^${path}: E_IMAGE_DECODE: Cannot decode image ${path}: heif: `));
    assert.doesNotMatch(line, /bad seek/);
    assert.deepEqual(rest, [rest[0]]); // then only the summary
    assert.match(rest[0], / in 1 image; 1 image failed$/);
    assert.ok(!existsSync(join(dir, 'photo.png')));
  });
});
