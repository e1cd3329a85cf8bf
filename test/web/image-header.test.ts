/**
 * `imageSizeFromHeader` (what `maxPixels` checks before the browser decodes) reads the size sharp wrote into each
 * format's header, asks for more bytes when a JPEG's metadata goes on, and declines what it cannot read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { imageSizeFromHeader } from '../../src/runtime/web/image-header.js';

const WIDTH = 37;
const HEIGHT = 23;

async function encode(
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'avif',
  options = {},
  channels: 3 | 4 = 4,
): Promise<Uint8Array> {
  const image = sharp({ create: { width: WIDTH, height: HEIGHT, channels, background: '#c83a' } });
  return new Uint8Array(await image.toFormat(format, options).toBuffer());
}

/** A BMP header (BITMAPINFOHEADER, 24-bit) of width x height, negative height meaning top-down rows. */
function bmp(width: number, height: number): Uint8Array {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'ascii');
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return new Uint8Array(header);
}

describe('imageSizeFromHeader', () => {
  it('reads JPEG, PNG, GIF, WebP (lossy, lossless, extended), AVIF and BMP headers', async () => {
    const cases: Record<string, Uint8Array> = {
      jpeg: await encode('jpeg'),
      'progressive jpeg': await encode('jpeg', { progressive: true }),
      png: await encode('png'),
      gif: await encode('gif'),
      'webp lossy (VP8)': await encode('webp', {}, 3),
      'webp lossless (VP8L)': await encode('webp', { lossless: true }),
      'webp with alpha (VP8X)': await encode('webp'),
      avif: await encode('avif'),
      bmp: bmp(WIDTH, HEIGHT),
      'bmp top-down': bmp(WIDTH, -HEIGHT),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      assert.deepEqual(imageSizeFromHeader(bytes), { width: WIDTH, height: HEIGHT }, name);
    }
  });

  it("skips a JPEG's metadata segments, and asks for more bytes while the frame header is still to come", async () => {
    const jpeg = new Uint8Array(
      await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#888' } })
        .withMetadata({ exif: { IFD0: { ImageDescription: 'x'.repeat(20_000) } } })
        .jpeg()
        .toBuffer(),
    );
    assert.deepEqual(imageSizeFromHeader(jpeg), { width: WIDTH, height: HEIGHT });
    assert.equal(imageSizeFromHeader(jpeg.subarray(0, 10_000)), 'more');
    assert.equal(imageSizeFromHeader(new Uint8Array([0xff, 0xd8])), 'more');
  });

  it('declines what it cannot read', () => {
    assert.equal(imageSizeFromHeader(new TextEncoder().encode('not an image at all')), undefined);
    assert.equal(imageSizeFromHeader(new Uint8Array(0)), undefined);
    assert.equal(imageSizeFromHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2])), undefined); // scan first
    assert.equal(imageSizeFromHeader(bmp(0, 10)), undefined);
  });
});
