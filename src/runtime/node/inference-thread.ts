/**
 * The detector's inference thread: a worker thread that owns the onnxruntime session (inference-worker.ts).
 * onnxruntime-node 1.30 runs a session synchronously on the calling thread (`run` is a `setImmediate` around the
 * native call), so on the main thread each inference blocks the event loop: with many `detect()` calls in flight,
 * decoded images wait for their resize and finished decodes wait for the next one to be started, and two cores
 * stay a quarter idle (bench:detect, "concurrent"). In its own thread inference overlaps the main thread's resizing
 * and sharp's decoding. The cost is one message each way per call, ~0.1 ms; tensors are transferred, not copied.
 */
import type { Worker } from 'node:worker_threads';

import { UltrafaceError } from '../../core/errors.js';
import type { Backend } from '../detector-core.js';
import type { InferenceReply, InferenceRequest, InferenceWorkerData } from './inference-worker.js';
import { deserializeError, spawnSiblingWorker } from './worker.js';

interface Pending {
  readonly resolve: (reply: { scores: Float32Array; boxes: Float32Array }) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Starts an inference thread over a checked, runnable model (`prepareModel`) and returns it as the detector's
 * {@link Backend}. The thread holds the process open only while a run is in flight; `release()` ends it.
 * @throws UltrafaceError E_MODEL_LOAD when onnxruntime cannot load the model
 */
export async function startInferenceThread(settings: {
  readonly model: Uint8Array;
  readonly source: string;
  readonly inputName: string;
  readonly threads: number | undefined;
}): Promise<Backend> {
  const data: InferenceWorkerData = { kind: 'ultraface-inference-worker', ...settings };
  const worker = spawnSiblingWorker(import.meta.url, 'inference-worker', data);
  worker.unref();
  await ready(worker);

  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | undefined;
  let released = false;
  const fail = (error: Error): void => {
    failure ??= error;
    for (const job of pending.values()) job.reject(failure);
    pending.clear();
    worker.unref();
  };
  worker.on('message', (reply: InferenceReply) => {
    if (!('id' in reply)) return;
    const job = pending.get(reply.id);
    if (!job) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if ('error' in reply) job.reject(deserializeError(reply.error));
    else job.resolve(reply);
  });
  worker.on('error', (error) => {
    fail(new Error(`The inference thread failed: ${error.message}`, { cause: error }));
  });
  worker.on('exit', (code) => {
    if (!released) fail(new Error(`The inference thread exited unexpectedly (code ${code})`));
  });

  return {
    run: (input, dims, consume) =>
      new Promise((resolve, reject) => {
        if (released) {
          reject(new UltrafaceError('E_DISPOSED', 'This face detector was disposed'));
          return;
        }
        if (failure) {
          reject(failure);
          return;
        }
        const id = nextId++;
        pending.set(id, {
          resolve: ({ scores, boxes }) => {
            try {
              resolve(consume(scores, boxes));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          },
          reject,
        });
        if (pending.size === 1) worker.ref();
        // The buffer moves to the worker; a view into a larger (or shared) buffer is copied out first.
        const whole = input.buffer instanceof ArrayBuffer && input.byteLength === input.buffer.byteLength;
        const owned = whole ? input : input.slice();
        worker.postMessage({ id, input: owned, dims } satisfies InferenceRequest, [
          owned.buffer as ArrayBuffer,
        ]);
      }),
    release: async () => {
      if (released) return;
      released = true;
      for (const job of pending.values())
        job.reject(new UltrafaceError('E_DISPOSED', 'This face detector was disposed'));
      pending.clear();
      await worker.terminate(); // the session goes with the thread's environment
    },
  };
}

/** Waits for the worker's first message: its session is ready, or it could not load the model. */
function ready(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (reply: InferenceReply): void => {
      cleanup();
      if ('loadError' in reply) {
        void worker.terminate();
        reject(deserializeError(reply.loadError));
      } else resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`The inference thread failed to start: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`The inference thread exited while starting (code ${code})`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.ref(); // held open while starting
  }).finally(() => {
    worker.unref();
  });
}
