/**
 * Options of the face-detection server and of one `POST /v1/detect` request: defaults with their reasons,
 * validation at the boundary (STYLE.md §5), one message format.
 */
import type { PostprocessOptions } from '../core/detect-options.js';
import { UltrafaceError } from '../core/errors.js';
import { INPUT_SIZE_NAMES, isInputSizeName, type InputSizeName } from '../core/presets.js';
import { describe, integerInRange, invalidOption, knownKeys, numberInRange } from '../core/validate.js';
import { decodeMode, type DecodeMode } from '../runtime/node/image.js';

export interface FaceServerOptions {
  /** ONNX model: a path, its bytes, or a name `createFaceDetector` knows (default: the shipped rfb-320). */
  readonly model?: string | Uint8Array;
  /** The model's name in responses and logs (default: the bundled name or the file's base name). */
  readonly modelName?: string;
  /** TCP port; 0 picks a free one (see `FaceServer.url`). Default 8080. */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1: loopback only; put a balancer or `0.0.0.0` in front on purpose. */
  readonly host?: string;
  /** Largest request body (raw image or multipart file) in bytes. Default 20 MiB (a large phone JPEG is ~10). */
  readonly maxBodyBytes?: number;
  /** Images with more pixels (read from the header, before decoding) are refused. Default 50 megapixels. */
  readonly maxPixels?: number;
  /** Images decoded at once on libuv's pool (sharp). Default: the number of CPUs, at least 2. */
  readonly concurrency?: number;
  /** Most images in one inference call. Default 16; 1 turns batching off. */
  readonly maxBatch?: number;
  /**
   * How long the oldest decoded image may wait for others to share its inference call. Default 2 ms: under load
   * images queue while a batch runs anyway, so a short window only helps when requests trickle in together.
   */
  readonly batchWindowMs?: number;
  /** Requests admitted at once (reading, decoding, waiting, running); more are answered 503. Default 256. */
  readonly maxQueue?: number;
  /** A request not answered within this many ms (after its body arrived) is answered 504. Default 10 s. */
  readonly timeoutMs?: number;
  /** onnxruntime intra-op threads (default 1: inference in its own thread, beside decoding). */
  readonly threads?: number;
  /** JPEG decoding, `'scaled'` (default) or `'full'`: see the detector's `decode` option. */
  readonly decode?: DecodeMode;
  /** Receives failures that are the server's fault (HTTP 500), e.g. to log them. */
  readonly onError?: (error: unknown) => void;
}

export interface ResolvedServerOptions {
  readonly model: string | Uint8Array | undefined;
  readonly modelName: string | undefined;
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly maxPixels: number;
  readonly concurrency: number;
  readonly maxBatch: number;
  readonly batchWindowMs: number;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  readonly threads: number | undefined;
  readonly decode: DecodeMode;
  readonly onError: ((error: unknown) => void) | undefined;
}

export const SERVER_DEFAULTS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  maxBodyBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxBatch: 16,
  batchWindowMs: 2,
  maxQueue: 256,
  timeoutMs: 10_000,
});

const SERVER_OPTION_KEYS = [
  'model',
  'modelName',
  'port',
  'host',
  'maxBodyBytes',
  'maxPixels',
  'concurrency',
  'maxBatch',
  'batchWindowMs',
  'maxQueue',
  'timeoutMs',
  'threads',
  'decode',
  'onError',
];

/**
 * Validates `createFaceServer` options and fills in the defaults.
 * @param cpus the default decode concurrency (the number of CPUs)
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function resolveServerOptions(options: FaceServerOptions, cpus: number): ResolvedServerOptions {
  const value: unknown = options;
  if (typeof value !== 'object' || value === null) {
    throw invalidOption('createFaceServer options', 'an options object', value);
  }
  knownKeys('createFaceServer options', options, SERVER_OPTION_KEYS);
  const { model, modelName, host, onError } = options;
  if (model !== undefined && typeof model !== 'string' && !(model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path, a model name or the bytes of an ONNX model', model);
  }
  if (modelName !== undefined && (typeof modelName !== 'string' || modelName === '')) {
    throw invalidOption('modelName', 'a non-empty string', modelName);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw invalidOption('host', 'a host name or IP address', host);
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw invalidOption('onError', 'a function', onError);
  }
  const d = SERVER_DEFAULTS;
  return Object.freeze({
    model,
    modelName,
    port: integerInRange('port', options.port ?? d.port, 0, 65_535),
    host: host ?? d.host,
    maxBodyBytes: integerInRange('maxBodyBytes', options.maxBodyBytes ?? d.maxBodyBytes, 1, 2 ** 31 - 1),
    maxPixels: integerInRange('maxPixels', options.maxPixels ?? d.maxPixels, 1, 2 ** 32),
    concurrency: integerInRange('concurrency', options.concurrency ?? Math.max(2, cpus), 1, 1024),
    maxBatch: integerInRange('maxBatch', options.maxBatch ?? d.maxBatch, 1, 1024),
    batchWindowMs: numberInRange('batchWindowMs', options.batchWindowMs ?? d.batchWindowMs, 0, 3_600_000),
    maxQueue: integerInRange('maxQueue', options.maxQueue ?? d.maxQueue, 1, 1_000_000),
    timeoutMs: integerInRange('timeoutMs', options.timeoutMs ?? d.timeoutMs, 1, 3_600_000),
    threads: options.threads === undefined ? undefined : integerInRange('threads', options.threads, 1, 256),
    decode: decodeMode(options.decode),
    onError,
  });
}

const BYTE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * A size such as `20mb`, `512kb`, `1.5mb` or `1048576` (bytes; units are binary: 1 kb = 1024 bytes).
 * @throws UltrafaceError E_INVALID_OPTION naming `name`
 */
export function parseByteSize(name: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*$/i.exec(value);
  const unit = match?.[2] ?? 'b';
  const bytes = match ? Math.floor(Number(match[1]) * BYTE_UNITS[unit.toLowerCase()]) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1 || bytes > 2 ** 31 - 1) {
    throw invalidOption(name, 'a size such as 20mb, 512kb or 1048576 (bytes), at most 2gb', value);
  }
  return bytes;
}

/** The options of one detection request, from its query string. */
export interface DetectRequestOptions {
  readonly post: PostprocessOptions;
  /** The network input size (a fixed-size model allows only its own). */
  readonly inputSize: InputSizeName;
  /** Answer with the image and boxes drawn on it (true), JSON (false), or as `Accept` asks (undefined). */
  readonly annotate: boolean | undefined;
}

export const DETECT_QUERY_KEYS = ['threshold', 'iou', 'topK', 'inputSize', 'annotate'] as const;

const queryNumber = (name: string, value: string): number => {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw invalidOption(name, 'a number', value);
  return n;
};

/**
 * Query parameters → request options: `threshold` (0..1), `iou` (0..1), `topK` (integer, 0 = all), `inputSize`
 * (a size the model takes), `annotate` (1/true/0/false). Unknown or repeated parameters are refused, so a typo
 * never silently means "default".
 * @param model the model's own input size and whether it takes others
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function parseDetectQuery(
  query: unknown,
  model: { readonly inputSize: InputSizeName; readonly dynamicSize: boolean },
): DetectRequestOptions {
  const params = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  for (const key of Object.keys(params)) {
    if (!(DETECT_QUERY_KEYS as readonly string[]).includes(key)) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Unknown query parameter ${describe(key)}; expected some of: ${DETECT_QUERY_KEYS.join(', ')}`,
      );
    }
    if (typeof params[key] !== 'string') {
      throw invalidOption(key, 'one value', params[key]);
    }
  }
  const get = (key: (typeof DETECT_QUERY_KEYS)[number]): string | undefined =>
    params[key] as string | undefined;
  const post: { scoreThreshold?: number; iouThreshold?: number; topK?: number } = {};
  const threshold = get('threshold');
  if (threshold !== undefined)
    post.scoreThreshold = numberInRange('threshold', queryNumber('threshold', threshold), 0, 1);
  const iou = get('iou');
  if (iou !== undefined) post.iouThreshold = numberInRange('iou', queryNumber('iou', iou), 0, 1);
  const topK = get('topK');
  if (topK !== undefined) post.topK = integerInRange('topK', queryNumber('topK', topK), 0, 100_000);

  let inputSize = model.inputSize;
  const size = get('inputSize');
  if (size !== undefined) {
    const n = queryNumber('inputSize', size);
    if (!isInputSizeName(n)) {
      throw invalidOption('inputSize', `one of ${INPUT_SIZE_NAMES.join(', ')}`, size);
    }
    if (!model.dynamicSize && n !== model.inputSize) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected inputSize ${model.inputSize} (this server's model has a fixed input size) but received ${n}`,
      );
    }
    inputSize = n;
  }

  const annotateValue = get('annotate');
  let annotate: boolean | undefined;
  if (annotateValue !== undefined) {
    const v = annotateValue.toLowerCase();
    if (!['1', 'true', '0', 'false', ''].includes(v)) {
      throw invalidOption('annotate', '1, true, 0 or false', annotateValue);
    }
    annotate = v === '1' || v === 'true' || v === '';
  }
  return { post, inputSize, annotate };
}
