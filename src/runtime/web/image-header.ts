/**
 * The pixel size an encoded image declares in its header, read without decoding it, so that `maxPixels` can
 * refuse a decompression bomb before the browser allocates its pixels. JPEG, PNG, GIF, WebP, BMP and AVIF/HEIF
 * (the `ispe` property); other formats are checked after decoding. Pure: bytes in, numbers out.
 */

export interface HeaderSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The size in `bytes`' header; 'more' when the header goes on past `bytes` (a JPEG whose metadata segments come
 * before its frame header); undefined for a format not read here or a header that makes no sense.
 */
export function imageSizeFromHeader(bytes: Uint8Array): HeaderSize | 'more' | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (offset: number, text: string): boolean => {
    if (bytes.length < offset + text.length) return false;
    for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
    return true;
  };
  const size = (width: number, height: number): HeaderSize | undefined =>
    width > 0 && height > 0 ? { width, height } : undefined;

  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes, view);
  if (ascii(0, '\x89PNG\r\n\x1a\n')) {
    if (bytes.length < 24) return 'more';
    return ascii(12, 'IHDR') ? size(view.getUint32(16), view.getUint32(20)) : undefined;
  }
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) {
    return bytes.length < 10 ? 'more' : size(view.getUint16(6, true), view.getUint16(8, true));
  }
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) {
    if (bytes.length < 30) return 'more';
    if (ascii(12, 'VP8 ')) return size(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    if (ascii(12, 'VP8L')) {
      const bits = view.getUint32(21, true);
      return size((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    if (ascii(12, 'VP8X')) {
      const u24 = (offset: number): number =>
        bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
      return size(u24(24) + 1, u24(27) + 1);
    }
    return undefined;
  }
  if (ascii(0, 'BM')) {
    if (bytes.length < 26) return 'more';
    // BITMAPCOREHEADER (12 bytes) has 16-bit sizes; the later headers signed 32-bit (negative height: top-down).
    if (view.getUint32(14, true) === 12) return size(view.getUint16(18, true), view.getUint16(20, true));
    return size(Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
  }
  if (ascii(4, 'ftyp')) return ispeSize(bytes, view);
  return undefined;
}

/** JPEG: the first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC) holds height, then width. */
function jpegSize(bytes: Uint8Array, view: DataView): HeaderSize | 'more' | undefined {
  let offset = 2;
  for (;;) {
    while (offset < bytes.length && bytes[offset] !== 0xff) offset++; // garbage between segments
    while (offset < bytes.length && bytes[offset] === 0xff) offset++; // fill bytes
    if (offset >= bytes.length) return 'more';
    const marker = bytes[offset++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, or scan data before any frame
    if (offset + 2 > bytes.length) return 'more';
    const length = view.getUint16(offset);
    if (length < 2) return undefined;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 7 > bytes.length) return 'more';
      const height = view.getUint16(offset + 3);
      const width = view.getUint16(offset + 5);
      // A height of 0 is defined later by a DNL marker: unknown here.
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    offset += length;
  }
}

/**
 * AVIF/HEIF: the largest image spatial extent (`ispe`) property in the header (a grid image declares the whole
 * canvas; its tiles are smaller). Found by its box type in the first bytes, which hold the `meta` box in practice.
 */
function ispeSize(bytes: Uint8Array, view: DataView): HeaderSize | undefined {
  let best: HeaderSize | undefined;
  for (let i = 4; i + 16 <= bytes.length; i++) {
    if (bytes[i] === 0x69 && bytes[i + 1] === 0x73 && bytes[i + 2] === 0x70 && bytes[i + 3] === 0x65) {
      const width = view.getUint32(i + 8);
      const height = view.getUint32(i + 12);
      if (width > 0 && height > 0 && (!best || width * height > best.width * best.height)) {
        best = { width, height };
      }
    }
  }
  return best;
}
