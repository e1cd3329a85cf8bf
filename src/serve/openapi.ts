/** The server's OpenAPI 3 description, served at `GET /openapi.json`; written by hand, kept next to the routes. */
import { INPUT_SIZE_NAMES } from '../core/presets.js';
import { IMAGE_MEDIA_TYPES } from './media.js';

const errorResponse = (description: string): object => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const imageBody = Object.fromEntries(
  IMAGE_MEDIA_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
);

/** The document for a server running `model` with these limits (they appear in the descriptions). */
export function openApiDocument(settings: {
  readonly version: string;
  readonly model: string;
  readonly maxBodyBytes: number;
  readonly maxPixels: number;
  readonly timeoutMs: number;
}): object {
  const { version, model, maxBodyBytes, maxPixels, timeoutMs } = settings;
  return {
    openapi: '3.0.3',
    info: {
      title: 'ultraface serve',
      version,
      description: `Face detection over HTTP (model ${model}). Stateless: run several behind any load balancer.`,
    },
    paths: {
      '/v1/detect': {
        post: {
          summary: 'Detect faces in one image',
          description:
            `The image is the raw body (its content type one of ${IMAGE_MEDIA_TYPES.join(', ')}) or the file ` +
            `field "image" of a multipart form. At most ${maxBodyBytes} bytes and ${maxPixels} pixels (checked ` +
            `from the header before decoding). Answers JSON, or with annotate=1 or Accept: image/jpeg (image/png, ` +
            `image/webp) the image with the boxes drawn.`,
          parameters: [
            {
              name: 'threshold',
              in: 'query',
              description: 'keep faces scoring above this (default 0.7)',
              schema: { type: 'number', minimum: 0, maximum: 1 },
            },
            {
              name: 'iou',
              in: 'query',
              description: 'NMS IoU threshold (default 0.3)',
              schema: { type: 'number', minimum: 0, maximum: 1 },
            },
            {
              name: 'topK',
              in: 'query',
              description: 'keep at most this many faces (0, the default: all)',
              schema: { type: 'integer', minimum: 0, maximum: 100000 },
            },
            {
              name: 'inputSize',
              in: 'query',
              description: 'network input size (width); a fixed-size model takes only its own',
              schema: { type: 'integer', enum: INPUT_SIZE_NAMES },
            },
            {
              name: 'annotate',
              in: 'query',
              description: 'answer with the annotated image (JPEG unless Accept asks for PNG or WebP)',
              schema: { type: 'string', enum: ['1', 'true', '0', 'false'] },
            },
          ],
          requestBody: {
            required: true,
            content: {
              ...imageBody,
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['image'],
                  properties: { image: { type: 'string', format: 'binary' } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The faces, or the annotated image',
              headers: {
                'X-Face-Count': { schema: { type: 'integer' }, description: 'faces found' },
                'X-Batch-Size': { schema: { type: 'integer' }, description: 'images in the inference call' },
              },
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/Detections' } },
                'image/jpeg': { schema: { type: 'string', format: 'binary' } },
                'image/png': { schema: { type: 'string', format: 'binary' } },
                'image/webp': { schema: { type: 'string', format: 'binary' } },
              },
            },
            '400': errorResponse('Bad options (E_INVALID_OPTION) or no image (E_INVALID_INPUT)'),
            '413': errorResponse('Body or file over the size limit (E_BODY_TOO_LARGE)'),
            '415': errorResponse('Unsupported content type or image format (E_UNSUPPORTED_MEDIA_TYPE)'),
            '422': errorResponse('Undecodable image (E_IMAGE_DECODE) or too many pixels (E_IMAGE_TOO_LARGE)'),
            '503': {
              ...errorResponse('Queue full (E_QUEUE_FULL) or shutting down (E_SHUTTING_DOWN)'),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
            '504': errorResponse(`Not answered within ${timeoutMs} ms (E_TIMEOUT)`),
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness: the process answers',
          responses: { '200': { description: 'Alive', content: { 'application/json': {} } } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the model is loaded, the queue has room, not shutting down',
          responses: {
            '200': { description: 'Ready', content: { 'application/json': {} } },
            '503': { description: 'Not ready', content: { 'application/json': {} } },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Text exposition format', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3', content: { 'application/json': {} } } },
        },
      },
    },
    components: {
      schemas: {
        Box: {
          type: 'object',
          description: 'corners in pixels of the (EXIF-oriented) image; may extend past its border',
          required: ['x1', 'y1', 'x2', 'y2'],
          properties: {
            x1: { type: 'number' },
            y1: { type: 'number' },
            x2: { type: 'number' },
            y2: { type: 'number' },
          },
        },
        Face: {
          type: 'object',
          required: ['box', 'score'],
          properties: {
            box: { $ref: '#/components/schemas/Box' },
            score: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
        Detections: {
          type: 'object',
          required: ['faces', 'width', 'height', 'model', 'timings'],
          properties: {
            faces: { type: 'array', items: { $ref: '#/components/schemas/Face' } },
            width: { type: 'integer', description: 'image width in pixels (after EXIF orientation)' },
            height: { type: 'integer' },
            model: { type: 'string' },
            timings: {
              type: 'object',
              required: ['decodeMs', 'inferenceMs'],
              properties: {
                decodeMs: { type: 'number', description: 'header check, decode and resize' },
                queueMs: { type: 'number', description: 'waiting for an inference call' },
                inferenceMs: { type: 'number', description: 'the inference call this image was part of' },
              },
            },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}
