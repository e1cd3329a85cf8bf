/** Small made-up images for the browser tests. */
import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

/**
 * The start of a PNG that declares width x height pixels (IHDR, 8-bit RGB) with no pixel data: a stand-in for a
 * decompression bomb that costs nothing to make. Only a check of the header refuses it as too large; a decoder
 * fails on it.
 */
export function headerOnlyPng(width: number, height: number): Buffer {
  return png(width, height, 2, 8, undefined);
}

/**
 * A black 1-bit grayscale PNG of width x height that a browser decodes (into width x height x 4 bytes): a real
 * oversized photo for `maxPixels`, ~14 kB on disk for 12000 x 9000.
 */
export function blackPng(width: number, height: number): Buffer {
  const row = 1 + Math.ceil(width / 8); // filter byte + packed bits
  return png(width, height, 0, 1, deflateSync(Buffer.alloc(row * height), { level: 9 }));
}

function png(
  width: number,
  height: number,
  colorType: number,
  bitDepth: number,
  idat: Buffer | undefined,
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(idat ? [chunk('IDAT', idat)] : []),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * `image` stored turned a quarter to the left, with EXIF orientation 6 ("turn right to view"): upright only for a
 * reader that applies EXIF orientation. JPEG quality 95.
 */
export async function exifRotatedJpeg(image: string): Promise<Buffer> {
  const turned = await sharp(image).rotate(270).jpeg({ quality: 95 }).toBuffer();
  return sharp(turned).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
}
