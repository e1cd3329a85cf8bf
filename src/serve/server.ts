/**
 * `ultraface serve`: face detection over HTTP on one detector (fastify).
 *
 * A detection request flows: admission (at most `maxQueue` at once, else 503) → body (raw image or multipart
 * field `image`, at most `maxBodyBytes`) → header check (format, `maxPixels`, before decoding) → decode + resize
 * on libuv's pool (sharp; `concurrency` at once) → the dynamic batcher (images arriving within `batchWindowMs`
 * share one onnxruntime call) → JSON or an annotated image. A request not answered within `timeoutMs` of its body
 * arriving gets 504 and leaves the queue. `close()` drains: new requests get 503, admitted ones are answered.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Socket } from 'node:net';

import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import type { PostprocessOptions } from '../core/detect-options.js';
import { isUltrafaceError } from '../core/errors.js';
import type { Detection } from '../core/postprocess.js';
import { INPUT_SIZES, type InputSizeName } from '../core/presets.js';
import type { Preprocessed } from '../runtime/detector-core.js';
import type { ResolvedModel } from '../runtime/model-info.js';
import { BUNDLED_MODELS } from '../runtime/node/bundled-models.js';
import { createFaceDetector, type FaceDetector } from '../runtime/node/detector.js';
import { drawDetections } from '../runtime/node/draw.js';
import { preprocess } from '../runtime/node/image.js';
import { abortReason, createBatcher, createLimiter } from './batcher.js';
import { HttpFailure, toErrorResponse } from './errors.js';
import { checkImageHeader, IMAGE_MEDIA_TYPES, isImageMediaType } from './media.js';
import { createServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import {
  parseDetectQuery,
  resolveServerOptions,
  type FaceServerOptions,
  type ResolvedServerOptions,
} from './options.js';

export type { FaceServerOptions } from './options.js';

export interface FaceServer {
  /** `http://host:port`, with the port the system gave when `port` was 0. */
  readonly url: string;
  readonly port: number;
  /** The name responses give for the model. */
  readonly modelName: string;
  readonly model: ResolvedModel;
  readonly options: ResolvedServerOptions;
  /** Detection requests admitted and not answered yet. */
  readonly inFlight: number;
  /** The fastify instance (for `inject` in tests; do not add routes). */
  readonly app: FastifyInstance;
  /**
   * Stops accepting requests, answers those admitted, then releases the model. New requests on open
   * connections get 503 meanwhile. Idempotent; resolves when all is released.
   */
  close(): Promise<void>;
  /** Settles when the server has closed (after `close()`). */
  readonly closed: Promise<void>;
}

const DETECT_ROUTE = '/v1/detect';
/** How long past `timeoutMs` a shutdown waits for connections that are still open. */
const DRAIN_GRACE_MS = 10_000;
const ANNOTATED_FORMATS = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' } as const;
type AnnotatedType = keyof typeof ANNOTATED_FORMATS;

interface BatchItem {
  readonly image: Preprocessed;
  readonly post: PostprocessOptions | undefined;
}

interface BatchResult {
  readonly faces: Detection[];
  readonly startedAt: number;
  readonly inferenceMs: number;
  readonly batchSize: number;
}

interface RequestState {
  readonly start: number;
  /** Aborted on timeout or when the client goes: work not yet started is dropped. */
  readonly controller: AbortController;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
const now = (): number => performance.now();

/** The name of the model in responses: the bundled name, the file's base name, or `model bytes`. */
function defaultModelName(model: string | Uint8Array | undefined): string {
  if (model === undefined) return 'rfb-320';
  if (typeof model !== 'string') return 'model bytes';
  const bundled = Object.entries(BUNDLED_MODELS).find(([, path]) => path === model);
  return bundled ? bundled[0] : basename(model);
}

/** The annotated image type the client asks for: `Accept` naming JPEG, PNG or WebP, or `annotate=1` (JPEG). */
function annotatedType(accept: string | undefined, annotate: boolean | undefined): AnnotatedType | undefined {
  if (annotate === false) return undefined;
  const types = (accept ?? '').split(',').map((part) => part.split(';')[0].trim().toLowerCase());
  const asked = types.find((type): type is AnnotatedType => Object.hasOwn(ANNOTATED_FORMATS, type));
  return asked ?? (annotate ? 'image/jpeg' : undefined);
}

/** `work`, or `signal`'s reason as soon as it aborts (`work` keeps running; its outcome is then dropped). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortReason(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Answers a malformed HTTP request (before fastify sees a request) with the JSON error shape. */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'E_TIMEOUT', 'The request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'E_BAD_REQUEST', 'The request headers are too large']
        : [400, 'Bad Request', 'E_BAD_REQUEST', 'Malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Loads the model and starts listening.
 * @throws UltrafaceError E_INVALID_OPTION, the errors of `createFaceDetector` (E_MODEL_LOAD, …); listen errors
 *   (EADDRINUSE) as Node gives them
 */
export async function startFaceServer(options: FaceServerOptions = {}): Promise<FaceServer> {
  const opts = resolveServerOptions(options, availableParallelism());
  const detector = await createFaceDetector({
    ...(opts.model === undefined ? {} : { model: opts.model }),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    maxPixels: opts.maxPixels,
  });
  try {
    return await listen(opts, detector);
  } catch (error) {
    await detector.dispose();
    throw error;
  }
}

async function listen(opts: ResolvedServerOptions, detector: FaceDetector): Promise<FaceServer> {
  const { model } = detector;
  const modelName = opts.modelName ?? defaultModelName(opts.model);
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const metrics = createServerMetrics();
  const states = new WeakMap<FastifyRequest, RequestState>();
  const decodes = createLimiter(opts.concurrency);
  const batcher = createBatcher<BatchItem, BatchResult>({
    maxBatch: model.dynamicBatch ? opts.maxBatch : 1,
    windowMs: opts.batchWindowMs,
    key: (item) => `${item.image.image.width}x${item.image.image.height}`,
    onBatch: (size) => {
      metrics.batchSize.observe(size);
    },
    run: async (items) => {
      const startedAt = now();
      const faces = await detector.detectPreprocessed(
        items.map((item) => item.image),
        items.map((item) => item.post),
      );
      const inferenceMs = now() - startedAt;
      metrics.inferenceSeconds.observe(inferenceMs / 1000);
      return faces.map((f) => ({ faces: f, startedAt, inferenceMs, batchSize: items.length }));
    },
  });
  let inFlight = 0;
  let closing = false;
  let annotationDir: Promise<string> | undefined;
  let annotationCount = 0;

  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBodyBytes,
    return503OnClosing: false, // our onRequest hook answers with the JSON error shape
    clientErrorHandler,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    [...IMAGE_MEDIA_TYPES],
    { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes },
    (_request, body, done) => {
      done(null, body);
    },
  );
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: {
      fileSize: opts.maxBodyBytes,
      files: 1,
      fields: 20,
      parts: 40,
      fieldSize: 64 * 1024,
      fieldNameSize: 200,
      headerPairs: 100,
    },
  });

  const fail = (reply: FastifyReply, error: unknown): FastifyReply => {
    const answer = toErrorResponse(error);
    if (answer.internal) opts.onError?.(error);
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
  app.setErrorHandler((error, request, reply) => {
    if ((error as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const received = request.headers['content-type'];
      return fail(
        reply,
        new HttpFailure(
          415,
          'E_UNSUPPORTED_MEDIA_TYPE',
          `Expected a body of type ${[...IMAGE_MEDIA_TYPES, 'multipart/form-data'].join(', ')} but received ` +
            (received === undefined ? 'no Content-Type' : JSON.stringify(received)),
        ),
      );
    }
    return fail(reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    fail(
      reply,
      new HttpFailure(404, 'E_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );

  app.addHook('onRequest', async (request, reply) => {
    const state: RequestState = { start: now(), controller: new AbortController() };
    states.set(request, state);
    if (closing) reply.header('connection', 'close');
    if (request.routeOptions.url !== DETECT_ROUTE) return;
    if (closing) {
      return fail(
        reply,
        new HttpFailure(503, 'E_SHUTTING_DOWN', 'The server is shutting down; retry on another instance', {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    if (inFlight >= opts.maxQueue) {
      return fail(
        reply,
        new HttpFailure(503, 'E_QUEUE_FULL', `The server has ${inFlight} requests queued, its limit`, {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    inFlight++;
    // 'close' comes once the response is sent or the connection is gone, whichever happens: the one place that
    // frees the slot. A client gone before its answer also cancels the request's work that has not started.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        state.controller.abort(new HttpFailure(499, 'E_BAD_REQUEST', 'The client closed the connection'));
      }
      inFlight--;
    });
    return undefined;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    const state = states.get(request);
    if (state) metrics.latency.observe({ route }, (now() - state.start) / 1000);
  });

  /** Header check, decode and resize of one image, at most `concurrency` at once. */
  const decode = (bytes: Uint8Array, inputSize: InputSizeName, signal: AbortSignal) =>
    decodes.run(async () => {
      const start = now();
      try {
        await checkImageHeader(bytes, opts.maxPixels);
        const { width, height } = INPUT_SIZES[inputSize];
        const image = await preprocess(bytes, {
          width,
          height,
          maxPixels: opts.maxPixels,
          decode: opts.decode,
        });
        const ms = now() - start;
        metrics.decodeSeconds.observe(ms / 1000);
        metrics.imagesDecoded.inc({ result: 'ok' });
        return { image, ms };
      } catch (error) {
        const code = error instanceof HttpFailure || isUltrafaceError(error) ? error.code : 'error';
        metrics.imagesDecoded.inc({ result: code });
        throw error;
      }
    }, signal);

  const annotate = async (
    bytes: Uint8Array,
    faces: readonly Detection[],
    type: AnnotatedType,
  ): Promise<Buffer> => {
    annotationDir ??= mkdtemp(join(tmpdir(), 'ultraface-serve-'));
    const file = join(await annotationDir, `${++annotationCount}.${ANNOTATED_FORMATS[type]}`);
    try {
      await drawDetections(bytes, faces, file, { maxPixels: opts.maxPixels });
      return await readFile(file);
    } finally {
      await rm(file, { force: true });
    }
  };

  app.post(DETECT_ROUTE, { bodyLimit: opts.maxBodyBytes }, async (request, reply) => {
    const state = states.get(request)!;
    const params = parseDetectQuery(request.query, {
      inputSize: model.inputSize.name,
      dynamicSize: model.dynamicSize,
    });
    const type = annotatedType(request.headers.accept, params.annotate);
    const bytes = request.isMultipart() ? await readMultipartImage(request) : rawImage(request.body);

    const { signal } = state.controller;
    const timer = setTimeout(() => {
      state.controller.abort(
        new HttpFailure(504, 'E_TIMEOUT', `The request was not answered within ${opts.timeoutMs} ms`),
      );
    }, opts.timeoutMs);
    let outcome;
    try {
      const work = (async () => {
        const decoded = await decode(bytes, params.inputSize, signal);
        signal.throwIfAborted();
        const post = Object.keys(params.post).length > 0 ? params.post : undefined;
        const queuedAt = now();
        const result = await batcher.submit({ image: decoded.image, post }, signal);
        const image = type ? await annotate(bytes, result.faces, type) : undefined;
        return { decoded, result, queueMs: result.startedAt - queuedAt, image };
      })();
      outcome = await raceAbort(work, signal);
    } finally {
      clearTimeout(timer);
    }
    const { decoded, result, queueMs, image } = outcome;
    reply.header('x-face-count', String(result.faces.length));
    reply.header('x-batch-size', String(result.batchSize));
    if (image && type) return reply.type(type).send(image);
    return {
      faces: result.faces,
      width: decoded.image.width,
      height: decoded.image.height,
      model: modelName,
      timings: {
        decodeMs: round(decoded.ms),
        queueMs: round(Math.max(0, queueMs)),
        inferenceMs: round(result.inferenceMs),
      },
    };
  });

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (closing) {
      return fail(reply, new HttpFailure(503, 'E_SHUTTING_DOWN', 'The server is shutting down'));
    }
    if (inFlight >= opts.maxQueue) {
      return fail(reply, new HttpFailure(503, 'E_QUEUE_FULL', `${inFlight} requests queued, the limit`));
    }
    return { status: 'ready', model: modelName, queue: inFlight, maxQueue: opts.maxQueue };
  });
  app.get('/metrics', async (_request, reply) => {
    metrics.queueDepth.set(inFlight);
    metrics.batchQueueDepth.set(batcher.depth);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openApi = openApiDocument({
    version,
    model: modelName,
    maxBodyBytes: opts.maxBodyBytes,
    maxPixels: opts.maxPixels,
    timeoutMs: opts.timeoutMs,
  });
  app.get('/openapi.json', () => openApi);

  await app.listen({ port: opts.port, host: opts.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closingPromise: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    modelName,
    model,
    options: opts,
    app,
    get inFlight() {
      return inFlight;
    },
    closed,
    close() {
      closingPromise ??= (async () => {
        closing = true;
        batcher.flush(); // nothing new will join the images waiting for a batch: run them now
        // Admitted requests are answered within timeoutMs of their bodies; a connection still open well after
        // that (a body that never finishes arriving) is cut rather than holding the shutdown.
        const deadline = setTimeout(() => {
          app.server.closeAllConnections();
        }, opts.timeoutMs + DRAIN_GRACE_MS);
        try {
          await app.close(); // waits for every admitted request to be answered
        } finally {
          clearTimeout(deadline);
          await detector.dispose();
          if (annotationDir) await rm(await annotationDir, { recursive: true, force: true });
          metrics.registry.clear();
          resolveClosed();
        }
      })();
      return closingPromise;
    },
  };
}

/** A raw body's bytes (fastify gives a Buffer for the image content types). */
function rawImage(body: unknown): Uint8Array {
  if (!(body instanceof Uint8Array) || body.length === 0) {
    throw new HttpFailure(
      400,
      'E_INVALID_INPUT',
      'Expected an image as the request body (Content-Type image/jpeg, image/png, …) or a multipart field "image"',
    );
  }
  return body;
}

/** The file of multipart field `image`; other fields are ignored. */
async function readMultipartImage(request: FastifyRequest): Promise<Buffer> {
  let image: Buffer | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== 'image') {
        throw new HttpFailure(
          400,
          'E_INVALID_INPUT',
          `Expected the image in multipart field "image" but received a file in field ${JSON.stringify(part.fieldname)}`,
        );
      }
      if (!isImageMediaType(part.mimetype)) {
        throw new HttpFailure(
          415,
          'E_UNSUPPORTED_MEDIA_TYPE',
          `Expected the "image" part to be one of ${IMAGE_MEDIA_TYPES.join(', ')} but received ${JSON.stringify(part.mimetype)}`,
        );
      }
      image = await part.toBuffer();
    }
  } catch (error) {
    const answer = toErrorResponse(error);
    if (answer.status < 500) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpFailure(400, 'E_INVALID_INPUT', `Malformed multipart body: ${reason}`, { cause: error });
  }
  if (!image || image.length === 0) {
    throw new HttpFailure(400, 'E_INVALID_INPUT', 'Expected a non-empty file in multipart field "image"');
  }
  return image;
}
