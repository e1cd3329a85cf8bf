import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parseUpstreamModelName } from '../../model/import/upstream.js';
import { upstreamModelPath, upstreamWeightsPath, type UpstreamCacheOptions } from './upstream-cache.js';

/** src/runtime/node/ and dist/runtime/node/ both sit three levels below the package root. */
const bundled = (file: string): string => fileURLToPath(new URL(`../../../models/${file}`, import.meta.url));

/**
 * The models this project trained and ships in the package's `models/` folder (models/README.md), by name: fp32
 * ONNX with BatchNorm folded and box decoding in the graph, except `rfb-320-int8` (int8 QDQ) and `rfb-320-raw`
 * (no box decoding). `rfb-320` is the default.
 */
export const BUNDLED_MODELS = {
  'rfb-320': bundled('ultraface-rfb-320.onnx'),
  'rfb-320-int8': bundled('ultraface-rfb-320-int8.onnx'),
  'rfb-320-raw': bundled('ultraface-rfb-320-raw.onnx'),
  'slim-320': bundled('ultraface-slim-320.onnx'),
  'rfb-640': bundled('ultraface-rfb-640.onnx'),
} as const;

export type BundledModelName = keyof typeof BUNDLED_MODELS;
export const BUNDLED_MODEL_NAMES = Object.keys(BUNDLED_MODELS) as BundledModelName[];

export const isBundledModelName = (name: string): name is BundledModelName =>
  Object.hasOwn(BUNDLED_MODELS, name);

/**
 * A `--model` argument as a path: a bundled model's name (`slim-320`) stands for its file unless a file of that
 * name exists in the working directory, which wins.
 */
export function resolveModelArgument(value: string): string {
  return isBundledModelName(value) && !existsSync(value) ? BUNDLED_MODELS[value] : value;
}

/**
 * A `model` value as a local ONNX detector file: `upstream:rfb-320` (any of `UPSTREAM_MODEL_NAMES`) is upstream's
 * weights, downloaded once and converted into the cache (`upstreamModelPath`); a bundled name is its file
 * (`resolveModelArgument`); anything else is a path, returned as given.
 * @throws UltrafaceError E_INVALID_OPTION (`upstream:` with an unknown name), and as `upstreamModelPath`
 */
export async function resolveModelSource(value: string, options: UpstreamCacheOptions = {}): Promise<string> {
  const upstream = parseUpstreamModelName(value);
  return upstream === undefined ? resolveModelArgument(value) : upstreamModelPath(upstream, options);
}

/**
 * A weights value (`--init`, `--teacher`) as a local file: `upstream:rfb-320` is upstream's `.pth` itself, in
 * the cache (`upstreamWeightsPath`; BatchNorm statistics kept); bundled names and paths as `resolveModelSource`.
 * @throws UltrafaceError as `resolveModelSource`
 */
export async function resolveWeightsSource(
  value: string,
  options: UpstreamCacheOptions = {},
): Promise<string> {
  const upstream = parseUpstreamModelName(value);
  return upstream === undefined ? resolveModelArgument(value) : upstreamWeightsPath(upstream, options);
}
