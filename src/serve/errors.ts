/**
 * Every failure the server answers is `{ error: { code, message } }` with an HTTP status. Codes are the library's
 * (`ErrorCode`) where one fits, and these few that only HTTP has.
 */
import { isUltrafaceError, type ErrorCode } from '../core/errors.js';

export type ServeErrorCode =
  | ErrorCode
  | 'E_BODY_TOO_LARGE' // 413: the body (or the multipart file) is over --max-body
  | 'E_UNSUPPORTED_MEDIA_TYPE' // 415: a content type or an image format the server does not decode
  | 'E_QUEUE_FULL' // 503: --max-queue requests are already admitted; retry after Retry-After seconds
  | 'E_SHUTTING_DOWN' // 503: the server is draining for shutdown
  | 'E_TIMEOUT' // 504: not answered within --timeout-ms
  | 'E_NOT_FOUND' // 404: no such route
  | 'E_BAD_REQUEST' // 400: a malformed HTTP request
  | 'E_INTERNAL'; // 500: the server's fault (reported to onError)

export interface ErrorBody {
  readonly error: { readonly code: ServeErrorCode; readonly message: string };
}

/** A failure with its HTTP answer. */
export class HttpFailure extends Error {
  readonly status: number;
  readonly code: ServeErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ServeErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpFailure';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

/** HTTP status of each library code a request can meet; anything else is the server's fault (500). */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  E_INVALID_OPTION: 400,
  E_INVALID_INPUT: 400,
  E_IMAGE_DECODE: 422,
  E_IMAGE_TOO_LARGE: 422,
};

/** Fastify's and @fastify/multipart's error codes, by what they mean for the client. */
const FRAMEWORK_ERRORS: Readonly<Record<string, readonly [number, ServeErrorCode]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'E_BODY_TOO_LARGE'],
  FST_REQ_FILE_TOO_LARGE: [413, 'E_BODY_TOO_LARGE'],
  FST_PARTS_LIMIT: [413, 'E_BODY_TOO_LARGE'],
  FST_FILES_LIMIT: [413, 'E_BODY_TOO_LARGE'],
  FST_FIELDS_LIMIT: [413, 'E_BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'E_UNSUPPORTED_MEDIA_TYPE'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'E_UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'E_BAD_REQUEST'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'E_UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'E_UNSUPPORTED_MEDIA_TYPE'],
};

/** Any thrown value → status, headers and body. `internal` is true when it is the server's fault. */
export function toErrorResponse(error: unknown): {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: ErrorBody;
  internal: boolean;
} {
  const answer = (status: number, code: ServeErrorCode, message: string, headers = {}) => ({
    status,
    headers,
    body: { error: { code, message } },
    internal: status >= 500 && code === 'E_INTERNAL',
  });
  if (error instanceof HttpFailure) return answer(error.status, error.code, error.message, error.headers);
  if (isUltrafaceError(error)) {
    const status = STATUS_OF[error.code];
    if (status !== undefined) return answer(status, error.code, error.message);
    return answer(500, 'E_INTERNAL', `${error.code}: ${error.message}`);
  }
  const framework = error as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  const message = typeof framework?.message === 'string' ? framework.message : 'Request failed';
  if (typeof framework?.code === 'string' && Object.hasOwn(FRAMEWORK_ERRORS, framework.code)) {
    const [status, code] = FRAMEWORK_ERRORS[framework.code];
    return answer(status, code, message);
  }
  const status = framework?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return answer(status, 'E_BAD_REQUEST', message);
  }
  return answer(500, 'E_INTERNAL', 'Internal server error');
}
