/**
 * Worker-thread entry of a data-parallel training step (step-runner.ts): one onnxruntime session of the training
 * graph; runs the shards it is sent and posts the outputs back, transferring the buffers.
 *
 * Protocol: out `{ ready: true }` once the session exists (or `{ id: null, error }`); then in
 * `{ id, batch, params }`, out `{ id, outputs }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { createSession } from '../runtime/node/session.js';
import { serializeError } from '../runtime/node/worker.js';
import {
  graphFeeds,
  outputsOf,
  type StepWorkerData,
  type StepWorkerReply,
  type StepWorkerRequest,
} from './step-runner.js';

const data = workerData as Partial<StepWorkerData> | null;
if (parentPort !== null && data?.kind === 'ultraface-step-worker' && data.onnx !== undefined) {
  const port = parentPort;
  const { inputs = [], threads } = data;
  const post = (reply: StepWorkerReply, transfer: ArrayBuffer[] = []): void => {
    port.postMessage(reply, transfer);
  };
  createSession(data.onnx, 'the training graph', threads).then(
    (session) => {
      port.on('message', (request: StepWorkerRequest) => {
        session.run(graphFeeds(inputs, request.batch, new Map(Object.entries(request.params)))).then(
          (results) => {
            const outputs = outputsOf(results);
            const buffers = new Set(Object.values(outputs).map((a) => a.buffer as ArrayBuffer));
            post({ id: request.id, outputs }, [...buffers]);
          },
          (error: unknown) => {
            post({ id: request.id, error: serializeError(error) });
          },
        );
      });
      post({ ready: true });
    },
    (error: unknown) => {
      post({ id: null, error: serializeError(error) });
    },
  );
}
