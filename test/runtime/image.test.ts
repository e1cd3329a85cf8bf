import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';

import sharp from 'sharp';

import { isUltrafaceError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import { resizeBilinear } from '../../src/core/resize.js';
import { loadImage, preprocess, shrinkFactor } from '../../src/runtime/node/image.js';
import { sharedPath } from '../helpers/shared.js';

interface Vector {
  width: number;
  height: number;
  decoded_rgb_md5: string;
  resized_320x240_rgb_md5: string;
  resized_320x240_rgb_sum: number;
  resized_640x480_rgb_md5: string;
  resized_640x480_rgb_sum: number;
}
const vectors = (
  JSON.parse(readFileSync(sharedPath('reference/vectors.json'), 'utf8')) as { images: Record<string, Vector> }
).images;
const imagePath = (name: string): string => sharedPath(`reference/upstream/imgs/${name}`);

const MAX_PIXELS = 100_000_000;
type Bytes = Uint8Array | Uint8ClampedArray;
const md5 = (data: Bytes): string => createHash('md5').update(data).digest('hex');
const sum = (data: Bytes): number => {
  let total = 0;
  for (const v of data) total += v;
  return total;
};

/** Resolves to the coded error the promise rejects with, or fails the test. */
async function rejection(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isUltrafaceError(error), `expected an UltrafaceError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  let crc = 0xffffffff;
  for (const byte of out.subarray(4, 8 + data.length)) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}
/** A valid PNG header claiming width x height RGB, followed by a token IDAT: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('loadImage + resizeBilinear on the 24 upstream images (vectors.json, OpenCV 4.6 + libjpeg-turbo)', () => {
  const names = Object.keys(vectors);

  it('decodes bit-identically to cv2.imread and resizes to the same bytes at 320x240 and 640x480', async () => {
    assert.equal(names.length, 24);
    const matches = { decoded: 0, resized320: 0, resized640: 0 };
    for (const name of names) {
      const ref = vectors[name];
      const image = await loadImage(imagePath(name), { maxPixels: MAX_PIXELS });
      assert.deepEqual([image.width, image.height, image.channels], [ref.width, ref.height, 3], name);
      if (md5(image.data) !== ref.decoded_rgb_md5) continue;
      matches.decoded++;
      // Resize golden values only mean something from identical decoded pixels (SPEC §6.7 step 1).
      const small = resizeBilinear(image, 320, 240).data;
      const large = resizeBilinear(image, 640, 480).data;
      if (md5(small) === ref.resized_320x240_rgb_md5 && sum(small) === ref.resized_320x240_rgb_sum) {
        matches.resized320++;
      }
      if (md5(large) === ref.resized_640x480_rgb_md5 && sum(large) === ref.resized_640x480_rgb_sum) {
        matches.resized640++;
      }
    }
    // Measured with sharp 0.35.5 (libvips 8.18.7, mozjpeg): every decode and every resize matches.
    assert.deepEqual(matches, { decoded: 24, resized320: 24, resized640: 24 });
  });

  it('preprocess decodes them at full size (no shrink-on-load) and reports their original size', async () => {
    for (const name of names.slice(0, 6)) {
      const ref = vectors[name];
      for (const [w, h, key] of [
        [320, 240, 'resized_320x240_rgb_md5'],
        [640, 480, 'resized_640x480_rgb_md5'],
      ] as const) {
        const out = await preprocess(imagePath(name), { width: w, height: h, maxPixels: MAX_PIXELS });
        assert.deepEqual([out.width, out.height], [ref.width, ref.height], name);
        assert.deepEqual([out.image.width, out.image.height, out.image.channels], [w, h, 3]);
        assert.equal(md5(out.image.data), ref[key], `${name} ${w}x${h}`);
      }
    }
  });

  it('loads the same pixels from a path and from the encoded bytes', async () => {
    const path = imagePath(names[0]);
    const fromBytes = await loadImage(readFileSync(path), { maxPixels: MAX_PIXELS });
    assert.equal(md5(fromBytes.data), vectors[names[0]].decoded_rgb_md5);
  });
});

describe('loadImage on unusual and bad inputs', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-image-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const opts = { maxPixels: MAX_PIXELS };

  it('passes raw pixels through after validating them', async () => {
    const raw: RgbImage = { data: new Uint8Array(2 * 3 * 4), width: 2, height: 3, channels: 4 };
    assert.equal(await loadImage(raw, opts), raw);
    await rejection(loadImage({ ...raw, data: new Uint8Array(23) }, opts), 'E_INVALID_INPUT');
    await rejection(loadImage({ ...raw, channels: 1 } as unknown as RgbImage, opts), 'E_INVALID_INPUT');
    await rejection(loadImage(raw, { maxPixels: 5 }), 'E_IMAGE_TOO_LARGE');
    await rejection(loadImage(42 as unknown as string, opts), 'E_INVALID_INPUT');
  });

  it('validates its options', async () => {
    const raw: RgbImage = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 };
    await rejection(loadImage(raw, {} as { maxPixels: number }), 'E_INVALID_OPTION');
    await rejection(loadImage(raw, { maxPixels: 10, targetWidth: 0 }), 'E_INVALID_OPTION');
    await rejection(
      loadImage(raw, { maxPixels: 10, tagretWidth: 3 } as { maxPixels: number }),
      'E_INVALID_OPTION',
    );
  });

  it('refuses a missing path with E_FILE_NOT_FOUND, and a directory with E_INVALID_INPUT', async () => {
    const error = await rejection(loadImage(join(dir, 'nope.jpg'), opts), 'E_FILE_NOT_FOUND');
    assert.match(error.message, /nope\.jpg/);
    await rejection(loadImage(dir, opts), 'E_INVALID_INPUT');
  });

  it('refuses empty, text and truncated or corrupt-header files with E_IMAGE_DECODE', async () => {
    const jpeg = readFileSync(imagePath('13.jpg'));
    const corruptHeader = Buffer.from(jpeg);
    corruptHeader.fill(0x55, 2, 600); // JFIF, quantization and Huffman tables gone
    const cases: [string, Uint8Array][] = [
      ['empty.jpg', new Uint8Array(0)],
      ['notes.txt', Buffer.from('This is not an image.\n')],
      ['truncated.jpg', jpeg.subarray(0, jpeg.length >> 1)],
      ['header.jpg', corruptHeader],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      for (const input of [path, bytes]) {
        const error = await rejection(loadImage(input, opts), 'E_IMAGE_DECODE');
        assert.ok(error.message.length > 20, error.message);
      }
    }
  });

  it('decodes JPEG data with recoverable corruption, as OpenCV does', async () => {
    const jpeg = Buffer.from(readFileSync(imagePath('13.jpg')));
    jpeg.fill(0xff, 2000, 2100); // inside the entropy-coded data: libjpeg warns and resynchronises
    const image = await loadImage(jpeg, opts);
    assert.deepEqual([image.width, image.height, image.channels], [450, 344, 3]);
  });

  it('refuses a PNG whose header claims 50000 x 50000 with E_IMAGE_TOO_LARGE, before decoding', async () => {
    const bomb = pngClaiming(50_000, 50_000);
    const error = await rejection(loadImage(bomb, { maxPixels: 100_000_000 }), 'E_IMAGE_TOO_LARGE');
    assert.match(error.message, /50000 x 50000 = 2500000000 pixels/);
    // Under the limit, the same header reaches the decoder, which finds no pixel data: proof nothing was decoded above.
    await rejection(loadImage(bomb, { maxPixels: 3_000_000_000 }), 'E_IMAGE_DECODE');
  });

  it('turns grey JPEG and PNG into 3 equal channels', async () => {
    const grey = Buffer.alloc(16 * 8, 90);
    for (const format of ['jpeg', 'png'] as const) {
      const encoded = await sharp(grey, { raw: { width: 16, height: 8, channels: 1 } })
        .toColourspace('b-w')
        .toFormat(format)
        .toBuffer();
      assert.equal((await sharp(encoded).metadata()).channels, 1);
      const image = await loadImage(encoded, opts);
      assert.deepEqual([image.width, image.height, image.channels], [16, 8, 3]);
      assert.ok(image.data.every((v) => v === 90));
    }
  });

  it('turns a CMYK JPEG into RGB', async () => {
    const cmyk = await sharp({
      create: { width: 16, height: 16, channels: 3, background: { r: 220, g: 30, b: 40 } },
    })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const image = await loadImage(cmyk, opts);
    assert.equal(image.channels, 3);
    const [r, g, b] = image.data;
    assert.ok(r > 180 && g < 80 && b < 80, `a red, got ${r},${g},${b}`); // CMYK round trip is approximate
  });

  it('turns 16-bit and palette PNGs into 8-bit RGB', async () => {
    const colour = { width: 8, height: 4, channels: 3, background: { r: 200, g: 100, b: 50 } } as const;
    const deep = await sharp({ create: colour }).toColourspace('rgb16').png().toBuffer();
    const palette = await sharp({ create: colour }).png({ palette: true }).toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    for (const encoded of [deep, palette]) {
      const image = await loadImage(encoded, opts);
      assert.deepEqual([image.width, image.height, image.channels], [8, 4, 3]);
      assert.deepEqual([...image.data.subarray(0, 3)], [200, 100, 50]);
    }
  });

  it('drops alpha without compositing (IMREAD_COLOR)', async () => {
    const rgba = Buffer.from([200, 100, 50, 0, 10, 20, 30, 128, 1, 2, 3, 255]);
    const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    const image = await loadImage(png, opts);
    assert.equal(image.channels, 3);
    assert.deepEqual([...image.data], [200, 100, 50, 10, 20, 30, 1, 2, 3]);
  });

  it('applies the EXIF orientation (6: rotate 90° clockwise): dimensions swap, pixels move', async () => {
    // 32 x 16, left half red, right half blue; orientation 6 displays the left edge at the top.
    const raw = Buffer.alloc(32 * 16 * 3);
    for (let i = 0; i < 32 * 16; i++) raw.set(i % 32 < 16 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const jpeg = await sharp(raw, { raw: { width: 32, height: 16, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    assert.equal((await sharp(jpeg).metadata()).orientation, 6);
    const image = await loadImage(jpeg, opts);
    assert.deepEqual([image.width, image.height], [16, 32]);
    const at = (x: number, y: number): number[] => [
      ...image.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3),
    ];
    assert.ok(at(8, 4)[0] > 200 && at(8, 4)[2] < 60, `top is red: ${at(8, 4).join()}`);
    assert.ok(at(8, 28)[2] > 200 && at(8, 28)[0] < 60, `bottom is blue: ${at(8, 28).join()}`);
    const out = await preprocess(jpeg, { width: 8, height: 16, maxPixels: MAX_PIXELS });
    assert.deepEqual([out.width, out.height], [16, 32]);
  });
});

describe('JPEG shrink-on-load', () => {
  // 17.jpg is 1600 x 898 (progressive). Targets: 32x24 → 1/8 (200 >= 64, 112 >= 48); 100x100 → 1/4; 200x200 → 1/2.
  const path = imagePath('17.jpg');
  const opts = { maxPixels: MAX_PIXELS };
  let full: RgbImage;
  before(async () => {
    full = await loadImage(path, opts);
  });

  it('picks the largest of 1/8, 1/4, 1/2 that leaves 2x the target on both axes; JPEG only', () => {
    const jpeg = { format: 'jpeg' } as const;
    assert.equal(shrinkFactor(jpeg, { width: 4000, height: 3000 }, { width: 320, height: 240 }), 4);
    assert.equal(shrinkFactor(jpeg, { width: 5120, height: 3840 }, { width: 320, height: 240 }), 8);
    assert.equal(shrinkFactor(jpeg, { width: 1280, height: 960 }, { width: 320, height: 240 }), 2);
    assert.equal(shrinkFactor(jpeg, { width: 1279, height: 960 }, { width: 320, height: 240 }), 1);
    assert.equal(shrinkFactor(jpeg, { width: 1600, height: 898 }, { width: 320, height: 240 }), 1); // 17.jpg
    assert.equal(shrinkFactor(jpeg, { width: 4000, height: 3000 }, { width: 0, height: 0 }), 1);
    assert.equal(
      shrinkFactor({ format: 'png' }, { width: 4000, height: 3000 }, { width: 320, height: 240 }),
      1,
    );
  });

  it('decodes at floor(W/s) x floor(H/s) pixels that are the libjpeg scaled decode (≈ s x s block means)', async () => {
    for (const [w, h, s] of [
      [32, 24, 8],
      [100, 100, 4],
      [200, 200, 2],
    ] as const) {
      const small = await loadImage(path, { ...opts, targetWidth: w, targetHeight: h });
      assert.deepEqual(
        [small.width, small.height, small.channels],
        [Math.floor(1600 / s), Math.floor(898 / s), 3],
      );
      // The DCT-domain decode is close to the mean of each s x s block of the full decode (measured 0.45–0.51
      // levels on average); sampling one pixel per block instead would be off by 8–16 levels.
      let error = 0;
      for (let y = 0; y < small.height; y++) {
        for (let x = 0; x < small.width; x++) {
          for (let c = 0; c < 3; c++) {
            let mean = 0;
            for (let v = 0; v < s; v++) {
              for (let u = 0; u < s; u++) mean += full.data[((s * y + v) * full.width + s * x + u) * 3 + c];
            }
            error += Math.abs(small.data[(y * small.width + x) * 3 + c] - mean / (s * s));
          }
        }
      }
      const meanError = error / small.data.length;
      assert.ok(meanError < 1, `1/${s}: mean |scaled decode - block mean| = ${meanError}`);
    }
  });

  it('preprocess resizes the reduced decode and reports the original size', async () => {
    const out = await preprocess(path, { width: 32, height: 24, maxPixels: MAX_PIXELS });
    assert.deepEqual([out.width, out.height], [1600, 898]);
    assert.deepEqual([out.image.width, out.image.height], [32, 24]);
    const small = await loadImage(path, { ...opts, targetWidth: 32, targetHeight: 24 });
    assert.deepEqual(out.image.data, resizeBilinear(small, 32, 24).data);
  });

  it('decides on the oriented size and rotates the reduced decode (EXIF orientation 6)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultraface-shrink-'));
    try {
      const rotated = join(dir, 'rotated.jpg');
      await sharp(path).withMetadata({ orientation: 6 }).toFile(rotated);
      // Oriented 898 x 1600; a 32x48 target allows 1/8 (112 >= 64, 200 >= 96).
      const small = await loadImage(rotated, { ...opts, targetWidth: 32, targetHeight: 48 });
      assert.deepEqual([small.width, small.height], [112, 200]);
      const out = await preprocess(rotated, { width: 32, height: 48, maxPixels: MAX_PIXELS });
      assert.deepEqual([out.width, out.height], [898, 1600]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decodes at full size when the target is not small enough, and always with decode: 'full'", async () => {
    const notSmall = await loadImage(path, { ...opts, targetWidth: 320, targetHeight: 240 });
    assert.deepEqual(notSmall.data, full.data);
    const exact = await loadImage(path, { ...opts, targetWidth: 32, targetHeight: 24, decode: 'full' });
    assert.deepEqual(exact.data, full.data);
    const exactInput = await preprocess(path, {
      width: 32,
      height: 24,
      maxPixels: MAX_PIXELS,
      decode: 'full',
    });
    assert.deepEqual(exactInput.image.data, resizeBilinear(full, 32, 24).data);
    await rejection(loadImage(path, { ...opts, decode: 'fast' as 'full' }), 'E_INVALID_OPTION');
  });

  it('decodes encoded bytes at the same reduced scale as the file, through a temporary file it removes', async () => {
    const leftBefore = readdirSync(tmpdir()).filter((name) => name.startsWith('ultraface-decode-'));
    const fromFile = await loadImage(path, { ...opts, targetWidth: 32, targetHeight: 24 });
    const fromBytes = await loadImage(readFileSync(path), { ...opts, targetWidth: 32, targetHeight: 24 });
    assert.deepEqual([fromBytes.width, fromBytes.height], [200, 112]);
    assert.deepEqual(fromBytes.data, fromFile.data);
    const leftAfter = readdirSync(tmpdir()).filter((name) => name.startsWith('ultraface-decode-'));
    assert.deepEqual(leftAfter, leftBefore);
  });
});
