import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName, NetVersion } from '../../core/presets.js';

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

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads one upstream `.pth` and checks its SHA-256. `baseUrl` exists for mirrors and for tests (which serve
 * the file from a local HTTP server; tests never reach the network).
 */
export async function downloadUpstreamWeights(
  name: UpstreamName,
  options: { baseUrl?: string; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const entry = UPSTREAM_WEIGHTS[name];
  const url = new URL(entry.file, options.baseUrl ?? UPSTREAM_BASE_URL).href;
  let bytes: Uint8Array;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (cause) {
    throw new UltrafaceError('E_DOWNLOAD', `Could not download ${url}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const digest = await sha256Hex(bytes);
  if (digest !== entry.sha256) {
    throw new UltrafaceError(
      'E_DOWNLOAD',
      `Expected SHA-256 ${entry.sha256} for ${url} but received ${digest} (${bytes.length} bytes); not using it`,
    );
  }
  return bytes;
}
