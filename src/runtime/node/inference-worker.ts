/**
 * Worker-thread entry of the detector's inference thread (inference-thread.ts). onnxruntime-node runs a session
 * synchronously on the thread that calls `run`, so in the main thread every inference would block the event loop
 * and leave the decoding threads without work to be handed; here it blocks only this thread.
 *
 * Protocol: `workerData` {@link InferenceWorkerData}; out first `{ ready: true }` or `{ loadError }`; then in
 * `{ id, input, dims }` (input transferred), out `{ id, scores, boxes }` (transferred) or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';

import * as ort from 'onnxruntime-node';

import { createSession } from './session.js';
import { serializeError, type SerializedError } from './worker.js';

/** `workerData` of an inference worker; the marker keeps an accidental import in some other worker inert. */
export interface InferenceWorkerData {
  readonly kind: 'ultraface-inference-worker';
  /** A checked, runnable ONNX model (`prepareModel`). */
  readonly model: Uint8Array;
  readonly source: string;
  readonly inputName: string;
  readonly threads: number | undefined;
}

export type InferenceRequest = {
  readonly id: number;
  /** [N, 3, H, W] float32 network input. */
  readonly input: Float32Array;
  readonly dims: readonly [number, number, number, number];
};

export type InferenceReply =
  | { readonly ready: true }
  | { readonly loadError: SerializedError }
  | { readonly id: number; readonly scores: Float32Array; readonly boxes: Float32Array }
  | { readonly id: number; readonly error: SerializedError };

const data = workerData as Partial<InferenceWorkerData> | null;
if (parentPort !== null && data?.kind === 'ultraface-inference-worker' && data.model !== undefined) {
  const port = parentPort;
  const { model, source, inputName, threads } = data as InferenceWorkerData;
  createSession(model, source, threads).then(
    (session) => {
      port.on('message', (request: InferenceRequest) => {
        session.run({ [inputName]: new ort.Tensor('float32', request.input, [...request.dims]) }).then(
          (outputs) => {
            const scores = outputs.scores.data as Float32Array;
            const boxes = outputs.boxes.data as Float32Array;
            port.postMessage({ id: request.id, scores, boxes } satisfies InferenceReply, [
              scores.buffer,
              boxes.buffer,
            ] as ArrayBuffer[]);
          },
          (error: unknown) => {
            port.postMessage({ id: request.id, error: serializeError(error) } satisfies InferenceReply);
          },
        );
      });
      port.postMessage({ ready: true } satisfies InferenceReply);
    },
    (error: unknown) => {
      port.postMessage({ loadError: serializeError(error) } satisfies InferenceReply);
    },
  );
}
