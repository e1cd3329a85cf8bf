import { UltrafaceError } from './errors.js';

/**
 * Validation at the public boundary, one message format for all (STYLE.md §5):
 * "Expected a number between 0 and 1 for scoreThreshold but received 1.5".
 */

export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (typeof value === 'function') return 'a function';
  return `an object of type ${value.constructor.name || 'Object'}`;
}

export function invalidOption(name: string, expected: string, received: unknown): UltrafaceError {
  return new UltrafaceError(
    'E_INVALID_OPTION',
    `Expected ${expected} for ${name} but received ${describe(received)}`,
  );
}

export function numberInRange(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(name, `a number between ${min} and ${max}`, value);
  }
  return value;
}

export function integerInRange(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

export function oneOf<T>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw invalidOption(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

/** Rejects keys the caller probably misspelled (`treshold`), so a typo never silently means "default". */
export function knownKeys(name: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Unknown option ${JSON.stringify(key)} in ${name}; expected some of: ${allowed.join(', ')}`,
      );
    }
  }
}
