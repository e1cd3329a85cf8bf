/**
 * Dynamic batching: items submitted by concurrent requests run together, one call of `run` per batch, one batch at
 * a time. A batch starts when its oldest item has waited `windowMs` (like Triton's max queue delay), or as soon as
 * `maxBatch` items of one key are queued; items queued while a batch runs (onnxruntime-node runs on the main
 * thread, so requests pile up behind it) go into the next one without a further wait once their window is over. Only items of one key (the network
 * size) share a batch. An aborted item leaves the queue and never runs.
 */

/** Why `signal` aborted, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`Aborted: ${String(reason)}`);
}

export interface BatcherOptions<T, R> {
  /** Most items per call of `run` (1: no batching). */
  readonly maxBatch: number;
  /** How long the oldest queued item waits for company, in ms. */
  readonly windowMs: number;
  /** Items of different keys never share a batch. */
  readonly key: (item: T) => string;
  /** Runs one batch; resolves to one result per item, in order. */
  readonly run: (items: readonly T[]) => Promise<readonly R[]>;
  /** Told each batch's size as it starts. */
  readonly onBatch?: (size: number) => void;
}

export interface Batcher<T, R> {
  /**
   * Queues `item`; resolves with its result. Rejects with `signal.reason` when the signal aborts while the item
   * still waits (once its batch runs, the result comes regardless), and with `run`'s error when its batch fails.
   */
  submit(item: T, signal?: AbortSignal): Promise<R>;
  /** Items waiting for a batch (not counting the batch running). */
  readonly depth: number;
  /** Whether a batch is running. */
  readonly busy: boolean;
  /** From now on no item waits for company (draining for shutdown: nothing more will come). */
  flush(): void;
}

interface Job<T, R> {
  readonly item: T;
  readonly key: string;
  readonly queuedAt: number;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
  readonly detach: () => void;
}

export function createBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
  const { maxBatch, key, run, onBatch } = options;
  let { windowMs } = options;
  const queue: Job<T, R>[] = [];
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const sameKey = (k: string): number => {
    let count = 0;
    for (const job of queue) if (job.key === k && ++count >= maxBatch) break;
    return count;
  };

  function schedule(): void {
    if (running || queue.length === 0) return;
    const oldest = queue[0];
    const wait = oldest.queuedAt + windowMs - performance.now();
    if (wait <= 0 || sameKey(oldest.key) >= maxBatch) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      void runNext();
    } else {
      timer ??= setTimeout(() => {
        timer = undefined;
        schedule();
      }, wait);
    }
  }

  async function runNext(): Promise<void> {
    running = true;
    const batchKey = queue[0].key;
    const jobs: Job<T, R>[] = [];
    for (let i = 0; i < queue.length && jobs.length < maxBatch;) {
      if (queue[i].key === batchKey) jobs.push(...queue.splice(i, 1));
      else i++;
    }
    for (const job of jobs) job.detach();
    try {
      onBatch?.(jobs.length);
      const results = await run(jobs.map((job) => job.item));
      jobs.forEach((job, i) => {
        job.resolve(results[i]);
      });
    } catch (error) {
      for (const job of jobs) job.reject(error);
    } finally {
      running = false;
      schedule();
    }
  }

  return {
    submit(item, signal) {
      return new Promise<R>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortReason(signal));
          return;
        }
        const onAbort = (): void => {
          const index = queue.indexOf(job);
          if (index < 0) return;
          queue.splice(index, 1);
          reject(abortReason(signal!));
        };
        const job: Job<T, R> = {
          item,
          key: key(item),
          queuedAt: performance.now(),
          resolve,
          reject,
          detach: () => signal?.removeEventListener('abort', onAbort),
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(job);
        schedule();
      });
    },
    get depth() {
      return queue.length;
    },
    get busy() {
      return running;
    },
    flush() {
      windowMs = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
      schedule();
    },
  };
}

/** At most `limit` tasks at once; the rest wait in order. A waiting task whose signal aborts leaves the line. */
export interface Limiter {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  // A finishing task hands its slot straight to the next in line, so no newcomer can slip in between.
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    async run(task, signal) {
      if (active >= limit) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            const index = waiting.indexOf(start);
            if (index >= 0) waiting.splice(index, 1);
            reject(abortReason(signal!));
          };
          const start = (): void => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          if (signal?.aborted) {
            reject(abortReason(signal));
            return;
          }
          signal?.addEventListener('abort', onAbort, { once: true });
          waiting.push(start);
        });
      } else {
        active++;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}
