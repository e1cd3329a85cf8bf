/**
 * `ultraface serve` end to end: real servers on 127.0.0.1, port 0, real HTTP. Every route, status and limit;
 * raw and multipart bodies; annotation; batching; timeouts; the queue limit; draining on close. Nothing waits for a
 * fixed time: slow paths are made certain with batch windows far longer than the test (a batch then starts only
 * when it is full, on timeout, or on close).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import type { Detection } from '../../src/core/postprocess.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import { BUNDLED_MODELS } from '../../src/runtime/node/bundled-models.js';
import { createFaceDetector, type FaceDetector } from '../../src/runtime/node/detector.js';
import { startFaceServer, type FaceServer } from '../../src/serve/server.js';
import { assertError, imageBytes, jpegDeclaring, pngDeclaring, postImage, send, until } from './helpers.js';

interface DetectBody {
  faces: Detection[];
  width: number;
  height: number;
  model: string;
  timings: { decodeMs: number; queueMs: number; inferenceMs: number };
}

/** Box corners within 0.01 px and scores within 1e-5: batched and single runs may differ in the last bits. */
function assertSameFaces(actual: readonly Detection[], expected: readonly Detection[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((face, k) => {
    const want = expected[k];
    for (const corner of ['x1', 'y1', 'x2', 'y2'] as const) {
      assert.ok(Math.abs(face.box[corner] - want.box[corner]) < 0.01, `${corner}: ${face.box[corner]}`);
    }
    assert.ok(Math.abs(face.score - want.score) < 1e-5);
  });
}

const LONG_WINDOW = 600_000; // a batch starts only when full, on close, or never (timeouts)
const IMAGES = ['1.jpg', '13.jpg', '26.jpg', '3.jpg'];

describe('ultraface serve', () => {
  let server: FaceServer;
  let detector: FaceDetector;
  const extra: FaceServer[] = [];
  const start = async (options: Parameters<typeof startFaceServer>[0]): Promise<FaceServer> => {
    const s = await startFaceServer({ port: 0, host: '127.0.0.1', ...options });
    extra.push(s);
    return s;
  };

  before(async () => {
    server = await startFaceServer({ port: 0, maxBodyBytes: 200_000, maxPixels: 4_000_000 });
    detector = await createFaceDetector();
  });
  after(async () => {
    await Promise.all([server.close(), detector.dispose(), ...extra.map((s) => s.close())]);
  });

  it('listens on 127.0.0.1 with the port the system gave', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
    assert.equal(server.modelName, 'rfb-320');
  });

  it('POST /v1/detect (raw body) answers the faces detect() finds, with size, model and timings', async () => {
    for (const name of IMAGES.slice(0, 3)) {
      const bytes = imageBytes(name);
      const answer = await postImage(server.url, bytes);
      assert.equal(answer.status, 200);
      const body = answer.json as DetectBody;
      const meta = await sharp(bytes).metadata();
      assert.equal(body.width, meta.width);
      assert.equal(body.height, meta.height);
      assert.equal(body.model, 'rfb-320');
      assert.ok(body.timings.decodeMs >= 0 && body.timings.inferenceMs > 0 && body.timings.queueMs >= 0);
      assertSameFaces(body.faces, await detector.detect(bytes));
      assert.equal(answer.headers.get('x-face-count'), String(body.faces.length));
      assert.ok(body.faces.every((f) => Object.keys(f).join() === 'box,score'));
    }
  });

  it('takes the image as multipart field "image", with options in the query', async () => {
    const bytes = imageBytes('1.jpg');
    const form = new FormData();
    form.append('note', 'ignored text field');
    form.append('image', new Blob([bytes], { type: 'image/jpeg' }), '1.jpg');
    const answer = await send(`${server.url}/v1/detect?threshold=0.8&topK=2`, { method: 'POST', body: form });
    assert.equal(answer.status, 200);
    const body = answer.json as DetectBody;
    const all = await detector.detect(bytes);
    const expected = all.filter((f) => f.score > 0.8).slice(0, 2);
    assertSameFaces(body.faces, expected);
    assert.equal(body.faces.length, 2);
  });

  it('applies threshold, iou and topK per request', async () => {
    const bytes = imageBytes('26.jpg');
    const strict = await createFaceDetector({ scoreThreshold: 0.95, iouThreshold: 0.1, topK: 3 });
    try {
      const answer = await postImage(server.url, bytes, 'image/jpeg', '?threshold=0.95&iou=0.1&topK=3');
      assert.equal(answer.status, 200);
      assertSameFaces((answer.json as DetectBody).faces, await strict.detect(bytes));
      const none = await postImage(server.url, bytes, 'image/jpeg', '?threshold=1');
      assert.deepEqual((none.json as DetectBody).faces, []);
    } finally {
      await strict.dispose();
    }
  });

  it('annotates: ?annotate=1 gives a JPEG of the image with boxes, Accept picks PNG or WebP', async () => {
    const bytes = imageBytes('13.jpg');
    const meta = await sharp(bytes).metadata();
    const faces = (await detector.detect(bytes)).length;
    for (const [query, accept, format] of [
      ['?annotate=1', undefined, 'jpeg'],
      ['', 'image/jpeg', 'jpeg'],
      ['?annotate=true', 'image/png', 'png'],
      ['', 'text/html, image/webp;q=0.9', 'webp'],
    ] as const) {
      const answer = await postImage(server.url, bytes, 'image/jpeg', query, accept ? { accept } : {});
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('content-type'), `image/${format}`);
      assert.equal(answer.headers.get('x-face-count'), String(faces));
      const out = await sharp(answer.bytes).metadata();
      assert.equal(out.format, format);
      assert.equal(out.width, meta.width);
      assert.equal(out.height, meta.height);
    }
    // Drawn boxes change pixels; annotate=0 wins over Accept.
    const drawn = await sharp((await postImage(server.url, bytes, 'image/jpeg', '?annotate=1')).bytes)
      .raw()
      .toBuffer();
    const plain = await sharp(bytes).raw().toBuffer();
    assert.notDeepEqual(drawn, plain);
    const json = await postImage(server.url, bytes, 'image/jpeg', '?annotate=0', { accept: 'image/jpeg' });
    assert.equal((json.json as DetectBody).faces.length, faces);
  });

  it('decodes PNG and WebP bodies and application/octet-stream (format read from the bytes)', async () => {
    const small = sharp(imageBytes('26.jpg')).resize(320);
    for (const [type, bytes] of [
      ['image/png', await small.clone().png().toBuffer()],
      ['application/octet-stream', await small.clone().png().toBuffer()],
      ['image/webp', await small.clone().webp().toBuffer()],
      ['image/gif', await small.clone().gif().toBuffer()],
    ] as const) {
      const answer = await postImage(server.url, bytes, type);
      assert.equal(answer.status, 200, type);
      assertSameFaces((answer.json as DetectBody).faces, await detector.detect(bytes));
    }
  });

  it('400 E_INVALID_OPTION for bad query options, before decoding', async () => {
    const bytes = imageBytes('13.jpg');
    for (const query of [
      '?threshold=2',
      '?threshold=abc',
      '?threshold=',
      '?iou=-0.1',
      '?topK=1.5',
      '?topK=-1',
      '?inputSize=999',
      '?inputSize=640', // the model's input is fixed at 320
      '?treshold=0.5',
      '?threshold=0.5&threshold=0.6',
      '?annotate=maybe',
    ]) {
      assertError(await postImage(server.url, bytes, 'image/jpeg', query), 400, 'E_INVALID_OPTION');
    }
    assert.equal((await postImage(server.url, bytes, 'image/jpeg', '?inputSize=320')).status, 200);
  });

  it('400 E_INVALID_INPUT when there is no image: empty body, multipart without "image", a file in another field', async () => {
    assertError(await postImage(server.url, new Uint8Array(0)), 400, 'E_INVALID_INPUT');
    assertError(await send(`${server.url}/v1/detect`, { method: 'POST' }), 400, 'E_INVALID_INPUT');
    const noImage = new FormData();
    noImage.append('threshold', '0.5');
    assertError(
      await send(`${server.url}/v1/detect`, { method: 'POST', body: noImage }),
      400,
      'E_INVALID_INPUT',
    );
    const wrongField = new FormData();
    wrongField.append('file', new Blob([imageBytes('13.jpg')], { type: 'image/jpeg' }), '13.jpg');
    assertError(
      await send(`${server.url}/v1/detect`, { method: 'POST', body: wrongField }),
      400,
      'E_INVALID_INPUT',
    );
  });

  it('400 for a broken multipart body', async () => {
    const boundary = 'XyZ';
    for (const body of [
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff`, // cut off
      `garbage without any boundary`,
      `--${boundary}\r\nno headers at all\r\n--${boundary}--`,
    ]) {
      const answer = await postImage(server.url, body, `multipart/form-data; boundary=${boundary}`);
      assert.ok(answer.status === 400, `${answer.status} ${JSON.stringify(answer.json)}`);
      assert.equal(typeof (answer.json as { error: { code: string } }).error.code, 'string');
    }
    assertError(await postImage(server.url, 'x', 'multipart/form-data'), 400, 'E_INVALID_INPUT');
  });

  it('413 E_BODY_TOO_LARGE over --max-body, raw and multipart', async () => {
    const big = Buffer.concat([imageBytes('1.jpg'), imageBytes('11.jpg')]); // > 200,000 bytes
    assert.ok(big.length > 200_000);
    assertError(await postImage(server.url, big), 413, 'E_BODY_TOO_LARGE');
    const form = new FormData();
    form.append('image', new Blob([big], { type: 'image/jpeg' }), 'big.jpg');
    assertError(
      await send(`${server.url}/v1/detect`, { method: 'POST', body: form }),
      413,
      'E_BODY_TOO_LARGE',
    );
  });

  it('415 E_UNSUPPORTED_MEDIA_TYPE: other content types, a multipart part of another type, SVG bytes', async () => {
    const bytes = imageBytes('13.jpg');
    for (const type of ['text/plain', 'application/json', 'image/svg+xml', 'video/mp4', null]) {
      assertError(await postImage(server.url, bytes, type), 415, 'E_UNSUPPORTED_MEDIA_TYPE');
    }
    const form = new FormData();
    form.append('image', new Blob([bytes], { type: 'text/plain' }), 'a.txt');
    assertError(
      await send(`${server.url}/v1/detect`, { method: 'POST', body: form }),
      415,
      'E_UNSUPPORTED_MEDIA_TYPE',
    );
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="10" height="10"/></svg>';
    assertError(
      await postImage(server.url, svg, 'application/octet-stream'),
      415,
      'E_UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('422 for undecodable images and, from the header alone, images over --max-pixels', async () => {
    const jpeg = imageBytes('1.jpg');
    assertError(await postImage(server.url, jpeg.subarray(0, 2000)), 422, 'E_IMAGE_DECODE');
    assertError(await postImage(server.url, Buffer.from('not an image at all')), 422, 'E_IMAGE_DECODE');
    assertError(
      await postImage(server.url, pngDeclaring(100_000, 100_000), 'image/png'),
      422,
      'E_IMAGE_TOO_LARGE',
    );
    assertError(await postImage(server.url, jpegDeclaring(jpeg, 60_000, 60_000)), 422, 'E_IMAGE_TOO_LARGE');
    // Just over 4 megapixels, a real image: refused by size, not decoded.
    const over = await sharp({ create: { width: 2001, height: 2000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    assertError(await postImage(server.url, over, 'image/png'), 422, 'E_IMAGE_TOO_LARGE');
  });

  it('GET /healthz, /readyz, /openapi.json; 404 JSON for unknown routes', async () => {
    const health = await send(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
    const ready = await send(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((ready.json as { status: string }).status, 'ready');
    const doc = (await send(`${server.url}/openapi.json`)).json as {
      openapi: string;
      paths: Record<string, object>;
    };
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/readyz',
      '/v1/detect',
    ]);
    assertError(await send(`${server.url}/v2/detect`), 404, 'E_NOT_FOUND');
    assertError(await send(`${server.url}/v1/detect`), 404, 'E_NOT_FOUND'); // GET
  });

  it('answers a malformed HTTP request with a JSON 400', async () => {
    const port = server.port;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('NOT HTTP AT ALL\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => {
        resolve(data);
      });
      socket.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 400/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    assert.equal(body.error.code, 'E_BAD_REQUEST');
  });

  it('GET /metrics: requests by status, latency, queue depth, batch sizes, images decoded', async () => {
    const answer = await send(`${server.url}/metrics`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
    const text = answer.bytes.toString();
    for (const pattern of [
      /^ultraface_http_requests_total\{route="\/v1\/detect",method="POST",status="200"\} \d+/m,
      /^ultraface_http_requests_total\{route="\/v1\/detect",method="POST",status="413"\} \d+/m,
      /^ultraface_http_requests_total\{route="\/v1\/detect",method="POST",status="422"\} \d+/m,
      /^ultraface_http_request_duration_seconds_bucket\{le="0\.1",route="\/v1\/detect"\} \d+/m,
      /^ultraface_queue_depth 0$/m,
      /^ultraface_batch_queue_depth 0$/m,
      /^ultraface_batch_size_count \d+/m,
      /^ultraface_images_decoded_total\{result="ok"\} \d+/m,
      /^ultraface_images_decoded_total\{result="E_IMAGE_DECODE"\} \d+/m,
      /^ultraface_inference_duration_seconds_count \d+/m,
      /^process_resident_memory_bytes \d+/m,
    ]) {
      assert.match(text, pattern);
    }
  });

  it('batches concurrent requests into one inference call, each answered with its own faces', async () => {
    const batching = await start({ maxBatch: 4, batchWindowMs: LONG_WINDOW });
    // The window outlasts the test: the batch runs because 4 images are queued, proving they shared one call.
    const answers = await Promise.all(IMAGES.map((name) => postImage(batching.url, imageBytes(name))));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('x-batch-size'), '4');
      assertSameFaces((answer.json as DetectBody).faces, await detector.detect(imageBytes(IMAGES[i])));
    }
    const metrics = (await send(`${batching.url}/metrics`)).bytes.toString();
    assert.match(metrics, /^ultraface_batch_size_bucket\{le="2"\} 0$/m);
    assert.match(metrics, /^ultraface_batch_size_bucket\{le="4"\} 1$/m);
  });

  it('takes inputSize per request where the model allows (free input size)', async () => {
    const dynamic = convertWeightsToOnnx(readFileSync(BUNDLED_MODELS['rfb-320-raw']), {
      postprocess: false,
      dynamicInputSize: true,
    }).onnx;
    const free = await start({ model: dynamic, modelName: 'rfb-dynamic' });
    const bytes = imageBytes('26.jpg');
    const at = async (query: string): Promise<DetectBody> => {
      const answer = await postImage(free.url, bytes, 'image/jpeg', query);
      assert.equal(answer.status, 200);
      return answer.json as DetectBody;
    };
    const reference = await createFaceDetector({ model: dynamic, inputSize: 640 });
    try {
      const large = await at('?inputSize=640');
      assert.equal(large.model, 'rfb-dynamic');
      assertSameFaces(large.faces, await reference.detect(bytes));
      const small = await at('?inputSize=160');
      assert.notEqual(small.faces.length, large.faces.length);
    } finally {
      await reference.dispose();
    }
  });

  it('504 E_TIMEOUT when not answered in --timeout-ms; the request leaves the queue without running', async () => {
    const slow = await start({ timeoutMs: 150, batchWindowMs: LONG_WINDOW });
    assertError(await postImage(slow.url, imageBytes('13.jpg')), 504, 'E_TIMEOUT');
    const metrics = (await send(`${slow.url}/metrics`)).bytes.toString();
    assert.match(metrics, /^ultraface_batch_queue_depth 0$/m);
    assert.match(metrics, /^ultraface_batch_size_count 0$/m); // never ran
    assert.match(metrics, /^ultraface_queue_depth 0$/m);
    assert.equal((await send(`${slow.url}/healthz`)).status, 200);
  });

  it('503 E_QUEUE_FULL with Retry-After beyond --max-queue; /readyz says not ready meanwhile', async () => {
    const small = await start({ maxQueue: 1, timeoutMs: 1500, batchWindowMs: LONG_WINDOW });
    const first = postImage(small.url, imageBytes('13.jpg'));
    await until(() => small.inFlight === 1, 'the first request to be admitted');
    const second = await postImage(small.url, imageBytes('13.jpg'));
    assertError(second, 503, 'E_QUEUE_FULL');
    assert.equal(second.headers.get('retry-after'), '1');
    assertError(await send(`${small.url}/readyz`), 503, 'E_QUEUE_FULL');
    assertError(await first, 504, 'E_TIMEOUT'); // its batch never fills
    await until(() => small.inFlight === 0, 'the slot to be freed');
    assert.equal((await send(`${small.url}/readyz`)).status, 200);
  });

  it('a client that goes away frees its slot, and its image leaves the batch queue', async () => {
    const waiting = await start({ batchWindowMs: LONG_WINDOW });
    const controller = new AbortController();
    const request = postImage(waiting.url, imageBytes('13.jpg'), 'image/jpeg', '', {}, controller.signal);
    const depth = async (): Promise<string> =>
      /^ultraface_batch_queue_depth (\d+)$/m.exec(
        (await send(`${waiting.url}/metrics`)).bytes.toString(),
      )![1];
    await until(async () => (await depth()) === '1', 'the image to wait for a batch');
    controller.abort();
    await assert.rejects(request);
    await until(() => waiting.inFlight === 0, 'the slot to be freed');
    await until(async () => (await depth()) === '0', 'the image to leave the queue');
  });

  it('close() drains: requests in flight are all answered, then the port is closed', async () => {
    const draining = await start({ maxBatch: 16, batchWindowMs: LONG_WINDOW });
    const names = ['1.jpg', '13.jpg', '26.jpg', '3.jpg', '9.jpg', '2.jpg'];
    const pending = names.map((name) => postImage(draining.url, imageBytes(name)));
    await until(() => draining.inFlight === names.length, 'all requests to be admitted');
    const closed = draining.close();
    const answers = await Promise.all(pending);
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assertSameFaces((answer.json as DetectBody).faces, await detector.detect(imageBytes(names[i])));
    }
    await closed;
    await draining.closed;
    await assert.rejects(fetch(`${draining.url}/healthz`));
    await draining.close(); // idempotent
  });
});
