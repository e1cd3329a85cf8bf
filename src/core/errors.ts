/**
 * The one error class of the library (STYLE.md §6). Every failure a caller can meet carries a stable `code`,
 * keeps the underlying `cause`, and says what was expected and what was received.
 */
export type ErrorCode =
  | 'E_INVALID_OPTION' // an option or argument is out of range or of the wrong type
  | 'E_INVALID_INPUT' // an input value (image buffer, tensor) has the wrong shape or type
  | 'E_IMAGE_DECODE' // bytes that are not a decodable image
  | 'E_IMAGE_TOO_LARGE' // an image over the pixel limit (decompression-bomb guard)
  | 'E_FILE_NOT_FOUND' // a path that does not exist
  | 'E_IO' // a file that could not be written (permissions, disk full, a folder in the way)
  | 'E_MODEL_LOAD' // a model file that cannot be read or does not look like an ultraface model
  | 'E_MODEL_MISSING' // no model given and none available
  | 'E_WEIGHTS_FORMAT' // a weight file (.pth, .onnx) that is malformed or unsupported
  | 'E_WEIGHTS_MISMATCH' // weights that do not fit the network (missing or extra keys, wrong shapes)
  | 'E_DOWNLOAD' // a download failed or its checksum did not match
  | 'E_DATASET' // a dataset or annotation file that is malformed
  | 'E_CHECKPOINT' // a training checkpoint that is malformed or does not fit the run
  | 'E_DISPOSED'; // a detector or batch source used after dispose() / close()

export class UltrafaceError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UltrafaceError';
    this.code = code;
  }
}

export function isUltrafaceError(error: unknown, code?: ErrorCode): error is UltrafaceError {
  return error instanceof UltrafaceError && (code === undefined || error.code === code);
}
