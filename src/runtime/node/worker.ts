/**
 * Worker threads for the package's own worker entries (batch building, training-step shards): spawning from
 * TypeScript sources or built code, and errors as plain data across the thread boundary.
 */
import { Worker } from 'node:worker_threads';

import { UltrafaceError, type ErrorCode } from '../../core/errors.js';
import { disableOrtTelemetry } from './telemetry.js';

/**
 * Starts the worker entry `<name>.ts` / `<name>.js` next to `callerUrl` (the caller's `import.meta.url`). From
 * TypeScript sources (tests, tsx) a worker does not inherit tsx's loader hooks, so a two-line bootstrap registers
 * them before loading the entry; built code loads the .js directly. onnxruntime's telemetry is turned off first, so
 * that sessions the worker creates find the switch in the environment (`disableOrtTelemetry`).
 */
export function spawnSiblingWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  disableOrtTelemetry();
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** An error as plain data, to cross a thread boundary (structured clone drops `code` and the class). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof UltrafaceError) {
    return { name: error.name, message: error.message, code: error.code, stack: error.stack };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** The inverse of {@link serializeError}: an UltrafaceError again when it was one (its stack is the worker's). */
export function deserializeError(error: SerializedError): Error {
  const revived =
    error.code === undefined
      ? new Error(error.message)
      : new UltrafaceError(error.code as ErrorCode, error.message);
  if (error.stack !== undefined) revived.stack = error.stack;
  return revived;
}
