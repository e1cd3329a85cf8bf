import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';

import { isUltrafaceError, UltrafaceError } from '../../core/errors.js';
import { convertWeightsToOnnx } from '../../model/convert.js';
import {
  downloadUpstreamWeights,
  UPSTREAM_WEIGHTS,
  upstreamWeightsUrl,
  type UpstreamName,
  type UpstreamWeights,
} from '../../model/import/upstream.js';
import { writeFileAtomic } from './files.js';

/** The environment variables the cache reads; `process.env` by default. */
export type CacheEnvironment = Readonly<Record<string, string | undefined>>;

/** Why a `.pth` is being downloaded: it is not in the cache yet, or the cached copy failed its SHA-256 check. */
export interface UpstreamDownloadEvent {
  readonly weights: UpstreamWeights;
  readonly url: string;
  /** Where the verified file will be written. */
  readonly path: string;
  readonly reason: 'missing' | 'corrupt';
}

export interface UpstreamCacheOptions {
  /** The cache folder (default: `upstreamCacheDir(env)`). */
  readonly cacheDir?: string;
  /** A mirror of upstream's `models/pretrained/` folder (default: `$ULTRAFACE_UPSTREAM_URL`, else GitHub). */
  readonly baseUrl?: string;
  /** Download timeout in milliseconds (default 60 s). */
  readonly timeoutMs?: number;
  /** Called before a download starts; the library never prints, a CLI can say what it is waiting for. */
  readonly onDownload?: (event: UpstreamDownloadEvent) => void;
  /** Where `ULTRAFACE_CACHE_DIR`, `XDG_CACHE_HOME` and `ULTRAFACE_UPSTREAM_URL` are read (default `process.env`). */
  readonly env?: CacheEnvironment;
}

/**
 * The cache folder: `$ULTRAFACE_CACHE_DIR` if set, else `$XDG_CACHE_HOME/ultraface` (an absolute
 * `XDG_CACHE_HOME` only, as the XDG spec asks), else `~/.cache/ultraface`.
 */
export function upstreamCacheDir(env: CacheEnvironment = process.env): string {
  const own = env.ULTRAFACE_CACHE_DIR;
  if (own) return resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'ultraface');
  return join(homedir(), '.cache', 'ultraface');
}

/** src/runtime/node/ and dist/runtime/node/ both sit three levels below the package root. */
const { version: PACKAGE_VERSION } = createRequire(import.meta.url)('../../../package.json') as {
  version: string;
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const folder = (options: UpstreamCacheOptions): string =>
  join(options.cacheDir ?? upstreamCacheDir(options.env ?? process.env), 'upstream');

/** A cached file's bytes, or `undefined` when it cannot be read (then it is fetched or rebuilt). */
async function readCached(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

async function writeCached(path: string, bytes: Uint8Array | string): Promise<void> {
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    if (!isUltrafaceError(error, 'E_IO')) throw error;
    throw new UltrafaceError(
      'E_IO',
      `${error.message}; set ULTRAFACE_CACHE_DIR to a writable folder for upstream's weights`,
      { cause: error },
    );
  }
}

/** The verified bytes of one upstream `.pth` in the cache, downloaded (and checked) first when needed. */
async function cachedWeights(
  name: UpstreamName,
  options: UpstreamCacheOptions,
): Promise<{ path: string; bytes: Uint8Array }> {
  const weights = UPSTREAM_WEIGHTS[name];
  const path = join(folder(options), weights.file);
  const cached = await readCached(path);
  if (cached !== undefined && sha256(cached) === weights.sha256) return { path, bytes: cached };
  const baseUrl = options.baseUrl ?? ((options.env ?? process.env).ULTRAFACE_UPSTREAM_URL || undefined);
  options.onDownload?.({
    weights,
    url: upstreamWeightsUrl(name, baseUrl),
    path,
    reason: cached === undefined ? 'missing' : 'corrupt',
  });
  let bytes: Uint8Array;
  try {
    bytes = await downloadUpstreamWeights(name, {
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  } catch (error) {
    if (!isUltrafaceError(error, 'E_DOWNLOAD')) throw error;
    throw new UltrafaceError(
      'E_DOWNLOAD',
      `${error.message}. Without the network, put ${weights.file} (sha256 ${weights.sha256}) at ${path}, ` +
        'or set ULTRAFACE_UPSTREAM_URL to a mirror of its folder',
      { cause: error },
    );
  }
  await writeCached(path, bytes);
  return { path, bytes };
}

/**
 * The path of upstream's `.pth` in the cache (`<cache>/upstream/version-RFB-320.pth`), for readers of weights
 * files (the trainer's `--init`, `--teacher`). The first call downloads it; every call checks the cached file
 * against the pinned SHA-256 and downloads it again when it does not match, so later calls work offline.
 * @throws UltrafaceError E_DOWNLOAD (unreachable, or a download with the wrong SHA-256: nothing is written),
 *   E_IO (the cache folder is not writable), E_INVALID_OPTION (a base URL that is not a URL)
 */
export async function upstreamWeightsPath(
  name: UpstreamName,
  options: UpstreamCacheOptions = {},
): Promise<string> {
  return (await cachedWeights(name, options)).path;
}

/**
 * The path of an ultraface ONNX detector made from upstream's weights at their own input size (320 → 320x240,
 * 640 → 640x480; BatchNorm folded, boxes decoded in the graph), cached beside the `.pth` under a name keyed by the
 * `.pth`'s SHA-256 and this package's version, with a `.sha256` file it is checked against before each use. A
 * cached detector needs neither the `.pth` nor the network; a missing or damaged one is rebuilt from the `.pth`
 * (`upstreamWeightsPath`).
 * @throws UltrafaceError as `upstreamWeightsPath`
 */
export async function upstreamModelPath(
  name: UpstreamName,
  options: UpstreamCacheOptions = {},
): Promise<string> {
  const weights = UPSTREAM_WEIGHTS[name];
  const stem = basename(weights.file, extname(weights.file));
  const path = join(
    folder(options),
    `${stem}.${weights.sha256.slice(0, 16)}.ultraface-${PACKAGE_VERSION}.onnx`,
  );
  const digestPath = `${path}.sha256`;
  const [onnx, digest] = await Promise.all([readCached(path), readCached(digestPath)]);
  if (
    onnx !== undefined &&
    digest !== undefined &&
    new TextDecoder().decode(digest).trim() === sha256(onnx)
  ) {
    return path;
  }
  const { bytes } = await cachedWeights(name, options);
  const source = `upstream ${weights.file} (sha256 ${weights.sha256.slice(0, 12)}…)`;
  const converted = convertWeightsToOnnx(
    bytes,
    { inputSize: weights.inputSize, trainedSize: weights.inputSize, source },
    source,
  ).onnx;
  // The model first, then its digest: a crash between the two leaves a mismatch, and the model is rebuilt.
  await writeCached(path, converted);
  await writeCached(digestPath, `${sha256(converted)}\n`);
  return path;
}
