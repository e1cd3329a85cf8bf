/**
 * The server's Prometheus metrics, in a registry of its own (no module state: two servers in one process keep
 * separate counts). `GET /metrics` renders it.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  /** Requests answered, by route, method and status. */
  readonly requests: Counter<'route' | 'method' | 'status'>;
  /** Time from request to response, by route. */
  readonly latency: Histogram<'route'>;
  /** Detection requests admitted and not answered yet (see --max-queue). */
  readonly queueDepth: Gauge;
  /** Decoded images waiting for an inference call. */
  readonly batchQueueDepth: Gauge;
  /** Images per inference call. */
  readonly batchSize: Histogram;
  /** Images decoded, by result (ok, or the error code). */
  readonly imagesDecoded: Counter<'result'>;
  readonly decodeSeconds: Histogram;
  /** One inference call (tensor, session.run, post-processing of the whole batch). */
  readonly inferenceSeconds: Histogram;
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'ultraface_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    latency: new Histogram({
      name: 'ultraface_http_request_duration_seconds',
      help: 'Time from request to response',
      labelNames: ['route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'ultraface_queue_depth',
      help: 'Detection requests admitted and not answered yet (limit: --max-queue)',
      registers,
    }),
    batchQueueDepth: new Gauge({
      name: 'ultraface_batch_queue_depth',
      help: 'Decoded images waiting for an inference call',
      registers,
    }),
    batchSize: new Histogram({
      name: 'ultraface_batch_size',
      help: 'Images per inference call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    imagesDecoded: new Counter({
      name: 'ultraface_images_decoded_total',
      help: 'Images decoded, by result (ok or the error code)',
      labelNames: ['result'] as const,
      registers,
    }),
    decodeSeconds: new Histogram({
      name: 'ultraface_decode_duration_seconds',
      help: 'Header check, decode and resize of one image',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inferenceSeconds: new Histogram({
      name: 'ultraface_inference_duration_seconds',
      help: 'One inference call over a batch',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}
