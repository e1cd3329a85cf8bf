import { isUltrafaceError } from '../../core/errors.js';
import { resolveModelArgument } from '../../runtime/node/bundled-models.js';
import type { DecodeMode } from '../../runtime/node/image.js';
import { parseByteSize } from '../../serve/options.js';
import { startFaceServer, type FaceServer } from '../../serve/server.js';
import type { CliIo } from '../io.js';

export interface ServeCommandOptions {
  readonly port?: number;
  readonly host?: string;
  /** A model file or a bundled model's name, as typed. */
  readonly model?: string;
  /** A size such as `20mb`. */
  readonly maxBody?: string;
  readonly maxPixels?: number;
  readonly concurrency?: number;
  readonly maxBatch?: number;
  readonly batchWindowMs?: number;
  readonly maxQueue?: number;
  readonly timeoutMs?: number;
  readonly threads?: number;
  readonly decode?: DecodeMode;
}

export interface ServeControl {
  /** Stops the server as SIGTERM would (tests); SIGTERM and SIGINT always do. */
  readonly stop?: AbortSignal;
  /** Called once the server listens. */
  readonly onListening?: (server: FaceServer) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const mib = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;

/**
 * `ultraface serve`: runs the HTTP detection server until SIGTERM or SIGINT (or `control.stop`), then drains the
 * requests in flight and returns 0. Returns 1 when the server cannot start (port in use, bad model).
 */
export async function runServe(
  options: ServeCommandOptions,
  io: CliIo,
  control: ServeControl = {},
): Promise<number> {
  let server: FaceServer;
  try {
    server = await startFaceServer({
      ...(options.model === undefined
        ? {}
        : { model: resolveModelArgument(options.model), modelName: options.model }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.maxBody === undefined
        ? {}
        : { maxBodyBytes: parseByteSize('--max-body', options.maxBody) }),
      ...(options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
      ...(options.batchWindowMs === undefined ? {} : { batchWindowMs: options.batchWindowMs }),
      ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.decode === undefined ? {} : { decode: options.decode }),
      onError: (error) => {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        io.stderr.write(`ultraface serve: internal error: ${text}\n`);
      },
    });
  } catch (error) {
    if (isUltrafaceError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      io.stderr.write(`ultraface serve: cannot listen: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }

  const { model, options: limits } = server;
  const batching =
    model.dynamicBatch && limits.maxBatch > 1
      ? `up to ${limits.maxBatch} images per call, ${limits.batchWindowMs} ms window`
      : 'off';
  io.stdout.write(
    `ultraface serve: listening on ${server.url}\n` +
      `  model      ${server.modelName} (${model.net ?? 'unknown net'}, ` +
      `${model.inputSize.width}x${model.inputSize.height}${model.dynamicSize ? ', any input size' : ''})\n` +
      `  limits     body ${mib(limits.maxBodyBytes)}, ${limits.maxPixels} pixels, queue ${limits.maxQueue}, ` +
      `timeout ${limits.timeoutMs} ms\n` +
      `  batching   ${batching}; ${limits.concurrency} decodes at once\n` +
      `  routes     POST /v1/detect, GET /healthz /readyz /metrics /openapi.json\n`,
  );
  control.onListening?.(server);

  // Whichever comes first: a signal, control.stop, or the server closing by itself. A second SIGINT while
  // draining is Node's default again: exit at once.
  const reason = await new Promise<string>((resolve) => {
    const finish = (why: string): void => {
      for (const signal of SIGNALS) process.removeListener(signal, onSignal);
      control.stop?.removeEventListener('abort', onStop);
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      finish(signal);
    };
    const onStop = (): void => {
      finish('stop requested');
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
    control.stop?.addEventListener('abort', onStop, { once: true });
    if (control.stop?.aborted) finish('stop requested');
    void server.closed.then(() => {
      finish('closed');
    });
  });
  io.stderr.write(`ultraface serve: ${reason}; draining ${server.inFlight} requests in flight\n`);
  await server.close();
  io.stderr.write('ultraface serve: stopped\n');
  return 0;
}
