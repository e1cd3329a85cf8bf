/**
 * Worker-thread entry of the batch source (batches.ts): builds the batches it is asked for and posts them back,
 * transferring the buffers (no copies). Receives its {@link BatchBuildConfig} once, as `workerData`.
 *
 * Protocol: in `{ id, task }`; out `{ id, batch }` or `{ id, error }` (errors as plain data: code and message).
 */
import { parentPort, workerData } from 'node:worker_threads';

import { serializeError, type SerializedError } from '../runtime/node/worker.js';
import {
  createBatchBuilder,
  type BatchBuildConfig,
  type BatchTask,
  type TrainingBatch,
} from './training-set.js';

/** `workerData` of a batch worker; the marker keeps an accidental import in some other worker inert. */
export interface BatchWorkerData {
  readonly kind: 'ultraface-batch-worker';
  readonly config: BatchBuildConfig;
}

export type WorkerRequest = { readonly id: number; readonly task: BatchTask };
export type WorkerReply =
  | { readonly id: number; readonly batch: WireBatch }
  | { readonly id: number; readonly error: SerializedError };

/** A batch as posted: `skipped` errors flattened to data. */
export type WireBatch = Omit<TrainingBatch, 'skipped'> & {
  readonly skipped: readonly { readonly index: number; readonly error: SerializedError }[];
};

const data = workerData as Partial<BatchWorkerData> | null;
if (parentPort !== null && data?.kind === 'ultraface-batch-worker' && data.config !== undefined) {
  const port = parentPort;
  const builder = createBatchBuilder(data.config);
  port.on('message', (request: WorkerRequest) => {
    builder.build(request.task).then(
      (batch) => {
        const wire: WireBatch = {
          ...batch,
          skipped: batch.skipped.map((s) => ({ index: s.index, error: serializeError(s.error) })),
        };
        const transfer: ArrayBuffer[] = [
          batch.images.buffer,
          ...(batch.undistortedImages ? [batch.undistortedImages.buffer] : []),
          batch.labels.buffer,
          batch.locations.buffer,
          batch.sampleIndices.buffer,
          ...batch.boxes.map((b) => b.buffer),
          ...batch.boxLabels.map((b) => b.buffer),
        ] as ArrayBuffer[];
        port.postMessage({ id: request.id, batch: wire } satisfies WorkerReply, transfer);
      },
      (error: unknown) => {
        port.postMessage({ id: request.id, error: serializeError(error) } satisfies WorkerReply);
      },
    );
  });
}
