import { readFile } from 'node:fs/promises';

import { UltrafaceError } from '../core/errors.js';
import { invalidOption } from '../core/validate.js';

/** The error every dataset reader throws for a missing or malformed file: names the file (and line), keeps `cause`. */
export function datasetError(file: string, message: string, cause?: unknown, line?: number): UltrafaceError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new UltrafaceError('E_DATASET', `${where}: ${message}`, { cause });
}

/** Reads a whole dataset file; a missing or unreadable file is a malformed dataset (E_DATASET), not an I/O crash. */
export async function readDatasetFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw datasetError(path, `cannot read the file (${code})`, error);
  }
}

export async function readDatasetText(path: string): Promise<string> {
  return (await readDatasetFile(path)).toString('utf8');
}

/** Lines without their `\n` / `\r\n` ends; index i is line i + 1 of the file. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A whitespace-separated line of decimal numbers (no hex, no NaN/Infinity); throws E_DATASET naming file:line. */
export function parseNumberLine(line: string, file: string, lineNumber: number): number[] {
  const tokens = line.trim().split(/\s+/);
  return tokens.map((token) => {
    const value = Number(token);
    if (!DECIMAL.test(token) || !Number.isFinite(value)) {
      throw datasetError(
        file,
        `expected numbers but found ${JSON.stringify(token.slice(0, 40))}`,
        undefined,
        lineNumber,
      );
    }
    return value;
  });
}

/**
 * `items.map(fn)` with at most `limit` calls in flight (file I/O), results in input order. After a failure no
 * new call starts; once the running ones have settled, the first error is thrown.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && errors.length === 0) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}

/** A `ImageSets/Main/<split>.txt` name: letters, digits, `_`, `.`, `-` (never a path). */
export function splitName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\w.-]+$/.test(value)) {
    throw invalidOption('split', 'a name such as "trainval" (letters, digits, _ . -)', value);
  }
  return value;
}
