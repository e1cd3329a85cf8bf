import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName, NetVersion } from '../../core/presets.js';
import { invalidOption } from '../../core/validate.js';

/** The official MIT-licensed weights of upstream's repository, pinned by SHA-256 (SPEC §1.1). */
export interface UpstreamWeights {
  readonly name: UpstreamName;
  readonly file: string;
  readonly net: NetVersion;
  /** The input size the weights were trained at. */
  readonly inputSize: InputSizeName;
  readonly bytes: number;
  readonly sha256: string;
}

export type UpstreamName = 'RFB-320' | 'RFB-640' | 'slim-320' | 'slim-640';

export const UPSTREAM_BASE_URL =
  'https://raw.githubusercontent.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/master/models/pretrained/';

export const UPSTREAM_WEIGHTS: Readonly<Record<UpstreamName, UpstreamWeights>> = Object.freeze({
  'RFB-320': {
    name: 'RFB-320',
    file: 'version-RFB-320.pth',
    net: 'RFB',
    inputSize: 320,
    bytes: 1_168_374,
    sha256: 'c722b4427cc71642768baef6e15c659931b56f07425e5d2b0ec033ad41b145b3',
  },
  'RFB-640': {
    name: 'RFB-640',
    file: 'version-RFB-640.pth',
    net: 'RFB',
    inputSize: 640,
    bytes: 1_168_354,
    sha256: 'bf34512b1a93dc234178e8a701ecf25c6afddf335a3226accf62982536e160b5',
  },
  'slim-320': {
    name: 'slim-320',
    file: 'version-slim-320.pth',
    net: 'slim',
    inputSize: 320,
    bytes: 1_091_283,
    sha256: 'cd24abce45da5dbc7cfd8167cd3d5f955382dfc9d9ae9459f0026abd3c2e38a4',
  },
  'slim-640': {
    name: 'slim-640',
    file: 'version-slim-640.pth',
    net: 'slim',
    inputSize: 640,
    bytes: 1_091_287,
    sha256: '02ca778098127c46d2b2680f1c398c7b993c12a424e94c34e6d608beb73481e4',
  },
});

export const UPSTREAM_NAMES = Object.keys(UPSTREAM_WEIGHTS) as UpstreamName[];

/** How a `model` option names upstream's weights: `upstream:rfb-320` (any case). */
export const UPSTREAM_MODEL_PREFIX = 'upstream:';

/** `upstream:rfb-320`, `upstream:rfb-640`, `upstream:slim-320`, `upstream:slim-640`. */
export const UPSTREAM_MODEL_NAMES: readonly string[] = UPSTREAM_NAMES.map(
  (name) => `${UPSTREAM_MODEL_PREFIX}${name.toLowerCase()}`,
);

/**
 * The upstream weights a `model` value names (`upstream:rfb-320`, case-insensitive), or `undefined` for a value
 * without the `upstream:` prefix (a path or a bundled name).
 * @throws UltrafaceError E_INVALID_OPTION for `upstream:` followed by an unknown name
 */
export function parseUpstreamModelName(value: string): UpstreamName | undefined {
  if (!value.toLowerCase().startsWith(UPSTREAM_MODEL_PREFIX)) return undefined;
  const wanted = value.slice(UPSTREAM_MODEL_PREFIX.length).toLowerCase();
  const name = UPSTREAM_NAMES.find((n) => n.toLowerCase() === wanted);
  if (name === undefined) throw invalidOption('model', `one of ${UPSTREAM_MODEL_NAMES.join(', ')}`, value);
  return name;
}

/**
 * Where one upstream `.pth` is fetched from: `baseUrl`, a mirror of upstream's `models/pretrained/` folder given as
 * an http(s) or `file:` URL (a missing trailing slash is added, so the last path segment is kept) or as a local
 * folder path; by default upstream's GitHub repository.
 * @throws UltrafaceError E_INVALID_OPTION for a URL of another scheme (ftp:, data:, …)
 */
export function upstreamWeightsUrl(name: UpstreamName, baseUrl: string = UPSTREAM_BASE_URL): string {
  const base = URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  // Not a URL, or a Windows drive letter ("C:\mirror" parses with the scheme "c:"): a folder path.
  const folder = base === undefined || base.protocol.length === 2 ? pathToFileURL(resolve(baseUrl)) : base;
  if (!['http:', 'https:', 'file:'].includes(folder.protocol)) {
    throw invalidOption(
      'the upstream URL',
      'an http(s) or file: URL or a folder, such as https://host/models/pretrained/',
      baseUrl,
    );
  }
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  return new URL(UPSTREAM_WEIGHTS[name].file, folder).href;
}

/** The bytes at an http(s) or `file:` URL (a local mirror); failures are E_DOWNLOAD errors naming the URL. */
async function fetchBytes(url: string, timeoutMs: number): Promise<Uint8Array> {
  if (url.startsWith('file:')) {
    try {
      return await readFile(fileURLToPath(url));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new UltrafaceError(
        'E_DOWNLOAD',
        `Could not read ${fileURLToPath(url)}${code ? ` (${code})` : ''}`,
        {
          cause,
        },
      );
    }
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (cause) {
    // fetch's "fetch failed" keeps the reason (ECONNREFUSED, ENOTFOUND, …) in its own cause.
    const inner = (cause as Error).cause as { code?: unknown; message?: unknown } | undefined;
    const reason = typeof inner?.code === 'string' ? inner.code : inner?.message;
    const detail = typeof reason === 'string' && reason !== '' ? ` (${reason})` : '';
    throw new UltrafaceError(
      'E_DOWNLOAD',
      `Could not download ${url}: ${(cause as Error).message}${detail}`,
      {
        cause,
      },
    );
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // a copy is backed by a plain ArrayBuffer, which the DOM typing of digest() requires
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads one upstream `.pth` and checks its SHA-256. `baseUrl` exists for mirrors (a URL or a local folder; see
 * `upstreamWeightsUrl`) and for tests (which serve the file from a local HTTP server or a folder; tests never
 * reach the network).
 * @throws UltrafaceError E_DOWNLOAD (unreachable, missing, or the wrong SHA-256), E_INVALID_OPTION (`baseUrl`)
 */
export async function downloadUpstreamWeights(
  name: UpstreamName,
  options: { baseUrl?: string; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const entry = UPSTREAM_WEIGHTS[name];
  const url = upstreamWeightsUrl(name, options.baseUrl);
  const bytes = await fetchBytes(url, options.timeoutMs ?? 60_000);
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256) {
    throw new UltrafaceError(
      'E_DOWNLOAD',
      `Expected SHA-256 ${entry.sha256} for ${url} but received ${digest} (${bytes.length} bytes); not using it`,
    );
  }
  return bytes;
}
