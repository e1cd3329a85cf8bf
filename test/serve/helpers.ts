/** Shared by the serve tests: images from ../shared, requests against a real server on 127.0.0.1. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

import { sharedPath } from '../helpers/shared.js';

export const imageBytes = (name: string): Buffer =>
  readFileSync(sharedPath(`reference/upstream/imgs/${name}`));

export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else undefined. */
  json: unknown;
  bytes: Buffer;
}

/** Sends a request and reads the whole answer. */
export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const json: unknown = type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined;
  return { status: response.status, headers: response.headers, json, bytes };
}

/** POST /v1/detect with a raw body; `type` null sends no Content-Type. */
export const postImage = (
  base: string,
  body: Uint8Array | string,
  type: string | null = 'image/jpeg',
  query = '',
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Answer> =>
  send(`${base}/v1/detect${query}`, {
    method: 'POST',
    body,
    ...(signal ? { signal } : {}),
    headers: { ...(type === null ? {} : { 'content-type': type }), ...headers },
  });

/** Asserts the answer is `status` with `{ error: { code, message } }`. */
export function assertError(answer: Answer, status: number, code: string): void {
  const body = answer.json as { error?: { code?: unknown; message?: unknown } } | undefined;
  assert.equal(answer.status, status, `status of ${JSON.stringify(body)}`);
  assert.equal(body?.error?.code, code, JSON.stringify(body));
  assert.equal(typeof body.error.message, 'string');
  assert.ok((body.error.message as string).length > 0);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type: string, data: Uint8Array): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
};

/**
 * A PNG whose header declares `width` x `height` (8-bit grey) with a few bytes of image data: a decompression
 * bomb's header. Valid CRCs, so only the size check can refuse it.
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG file with its frame header (SOF0/SOF2) patched to claim `width` x `height`. */
export function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length;) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1];
    const length = out.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker found');
}

/** Polls `condition` (no fixed sleeps: waits for a state, not for time). */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 20_000,
): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > limitMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
