/**
 * 1,000 malformed requests against a real server: truncated and random image bytes, wrong content types, huge
 * declared dimensions, broken multipart bodies, bad query values, oversized bodies. Every one must be answered
 * 4xx with the JSON error shape — never a 5xx, a hang or a crash — and the server must still be healthy and still
 * detect afterwards. A fixed seed keeps the run reproducible.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createRandom, type Random } from '../../src/core/random.js';
import { startFaceServer, type FaceServer } from '../../src/serve/server.js';
import { imageBytes, jpegDeclaring, pngDeclaring, send, type Answer } from './helpers.js';

const SEED = 20250117;
const REQUESTS = 1000;
const PARALLEL = 16;
const MAX_BODY = 64 * 1024;
const MAX_PIXELS = 4_000_000;

interface FuzzRequest {
  readonly kind: string;
  readonly query: string;
  readonly init: RequestInit;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)];
const randomBytes = (random: Random, length: number): Buffer => {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = random.int(256);
  return out;
};

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif'];
const WRONG_TYPES = [
  'text/plain',
  'application/json',
  'image/svg+xml',
  'multipart/mixed; boundary=x',
  'application/x-www-form-urlencoded',
  'video/mp4',
  'image',
  'image/',
  '*/*',
  'a/b/c',
];
const BAD_QUERIES = [
  'threshold=',
  'threshold=NaN',
  'threshold=Infinity',
  'threshold=-1',
  'threshold=1.01',
  'threshold=abc',
  'threshold=1e309',
  'iou=2',
  'iou=-0.5',
  'iou=x',
  'topK=-1',
  'topK=1.5',
  'topK=1e7',
  'topK=ten',
  'inputSize=0',
  'inputSize=321',
  'inputSize=640',
  'inputSize=big',
  'annotate=2',
  'annotate=yes',
  'foo=1',
  'Threshold=0.5',
  'top_k=3',
  'threshold=0.5&threshold=0.6',
  'threshold[]=0.5',
];

/** One malformed request of a random kind. */
function malformed(random: Random, jpeg: Buffer, png: Buffer, small: Buffer): FuzzRequest {
  const raw = (body: Uint8Array | string, type: string | undefined): RequestInit => ({
    method: 'POST',
    body,
    headers: type === undefined ? {} : { 'content-type': type },
  });
  const boundary = `b${random.int(1e9)}`;
  const part = (headers: string, body: Uint8Array | string): Buffer =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
      Buffer.from(body),
      Buffer.from('\r\n'),
    ]);
  const end = Buffer.from(`--${boundary}--\r\n`);
  const imagePart = (bytes: Uint8Array, type = 'image/jpeg', field = 'image'): Buffer =>
    part(`Content-Disposition: form-data; name="${field}"; filename="x.jpg"\r\nContent-Type: ${type}`, bytes);

  switch (random.int(7)) {
    case 0: {
      const source = random.chance(0.5) ? small : png;
      const cut = random.int(Math.floor(source.length * 0.9));
      return {
        kind: 'truncated image',
        query: '',
        init: raw(source.subarray(0, cut), pick(random, IMAGE_TYPES)),
      };
    }
    case 1: {
      const prefix = pick(random, [
        Buffer.alloc(0),
        Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
        png.subarray(0, 8),
        Buffer.from('RIFF\0\0\0\0WEBPVP8 '),
        Buffer.from('GIF89a'),
        Buffer.from('II*\0'),
      ]);
      const body = Buffer.concat([prefix, randomBytes(random, random.int(4096))]);
      return {
        kind: 'random bytes',
        query: '',
        init: raw(body, pick(random, [...IMAGE_TYPES, 'application/octet-stream'])),
      };
    }
    case 2:
      return {
        kind: 'wrong content type',
        query: '',
        init: raw(small, pick(random, [...WRONG_TYPES, undefined])),
      };
    case 3: {
      const side = () => 2001 + random.int(60_000);
      const [w, h] = [side(), side()];
      const body = random.chance(0.5) ? pngDeclaring(w, h) : jpegDeclaring(small, w, h);
      return { kind: 'huge declared size', query: '', init: raw(body, pick(random, IMAGE_TYPES)) };
    }
    case 4: {
      const type = `multipart/form-data; boundary=${boundary}`;
      const variants: (() => [Uint8Array | string, string])[] = [
        () => [imagePart(small).subarray(0, 20 + random.int(200)), type], // cut inside the part
        () => [imagePart(small), type], // no closing boundary
        () => [Buffer.concat([imagePart(small), end]), 'multipart/form-data'], // no boundary parameter
        () => [Buffer.concat([imagePart(small), end]), 'multipart/form-data; boundary=other'],
        () => [Buffer.concat([part('X-Nothing: 1', 'abc'), end]), type], // no Content-Disposition
        () => [Buffer.concat([part('garbage header line', small), end]), type],
        () => [Buffer.concat([imagePart(small, 'text/plain'), end]), type],
        () => [Buffer.concat([imagePart(small, 'image/jpeg', 'photo'), end]), type],
        () => [Buffer.concat([imagePart(small), imagePart(small), end]), type], // two files
        () => [Buffer.concat([part('Content-Disposition: form-data; name="image"', 'text'), end]), type],
        () => [
          Buffer.concat([
            ...Array.from({ length: 50 }, (_, i) =>
              part(`Content-Disposition: form-data; name="f${i}"`, 'v'),
            ),
            end,
          ]),
          type,
        ],
        () => [randomBytes(random, random.int(2000)), type],
        () => [Buffer.concat([imagePart(randomBytes(random, 500)), end]), type],
      ];
      const [body, contentType] = pick(random, variants)();
      return { kind: 'broken multipart', query: '', init: raw(body, contentType) };
    }
    case 5: {
      const count = 1 + random.int(2);
      const query = `?${Array.from({ length: count }, () => pick(random, BAD_QUERIES)).join('&')}`;
      return { kind: 'bad query', query, init: raw(small, 'image/jpeg') };
    }
    default: {
      const body = random.chance(0.5) ? jpeg : randomBytes(random, MAX_BODY + 1 + random.int(10_000));
      return { kind: 'body too large', query: '', init: raw(body, pick(random, IMAGE_TYPES)) };
    }
  }
}

describe('serve fuzz', () => {
  let server: FaceServer;
  before(async () => {
    server = await startFaceServer({ port: 0, maxBodyBytes: MAX_BODY, maxPixels: MAX_PIXELS });
  });
  after(async () => {
    await server.close();
  });

  it(`answers ${REQUESTS} malformed requests 4xx with JSON, and stays healthy`, async (t) => {
    const random = createRandom(SEED);
    const jpeg = imageBytes('1.jpg'); // 146 KB: over the body limit
    const small = imageBytes('13.jpg'); // 15 KB
    const { default: sharp } = await import('sharp');
    const png = await sharp(small).resize(64).png().toBuffer();
    const requests = Array.from({ length: REQUESTS }, () => malformed(random, jpeg, png, small));
    const tally = new Map<string, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++];
        let answer: Answer;
        try {
          answer = await send(`${server.url}/v1/detect${request.query}`, request.init);
        } catch (error) {
          failures.push(`${request.kind}: no answer (${String(error)})`);
          continue;
        }
        const code = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
        const ok =
          answer.status >= 400 &&
          answer.status < 500 &&
          typeof code?.code === 'string' &&
          typeof code.message === 'string';
        if (!ok)
          failures.push(
            `${request.kind} ${request.query}: ${answer.status} ${answer.bytes.toString().slice(0, 200)}`,
          );
        const key = `${answer.status} ${typeof code?.code === 'string' ? code.code : '?'}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    t.diagnostic(
      [...tally.entries()]
        .sort()
        .map(([key, n]) => `${key}: ${n}`)
        .join(', '),
    );
    assert.deepEqual(failures, []);
    assert.equal(
      [...tally.values()].reduce((a, b) => a + b, 0),
      REQUESTS,
    );

    assert.equal((await send(`${server.url}/healthz`)).status, 200);
    assert.equal((await send(`${server.url}/readyz`)).status, 200);
    const good = await send(`${server.url}/v1/detect`, {
      method: 'POST',
      body: small,
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(good.status, 200);
    assert.equal(server.inFlight, 0);
  });
});
