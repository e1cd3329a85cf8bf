/**
 * onnxruntime-web sessions: the wasm backend (SIMD; threads when the page is cross-origin isolated) and WebGPU
 * when the browser has a hardware adapter, tried in the caller's order, each refusal kept with its reason.
 *
 * onnxruntime-web's JavaScript is not bundled: it is imported at run time from `wasmPaths`, next to the `.mjs` and
 * `.wasm` files it loads from there anyway. Its bundler builds inline a copy of the `.mjs` glue that is never used
 * once `wasmPaths` is set (onnxruntime-web 1.30 then imports the glue from `wasmPaths`), so loading it this way keeps
 * that dead copy out of every bundler's output, keeps the JavaScript and the wasm binary of one version together,
 * and lets a start that failed at one URL be retried at another (a module instance belongs to its URL; onnxruntime-web
 * keeps a failed start of its backend for the life of that instance).
 *
 * Files per execution provider, from `node_modules/onnxruntime-web/dist/` (see `RUNTIME_FILES`): `ort.wasm.min.mjs`,
 * `ort-wasm-simd-threaded.mjs` and `.wasm` (~13 MB) for wasm; `ort.webgpu.min.mjs`,
 * `ort-wasm-simd-threaded.asyncify.mjs` and `.wasm` (~27 MB, fetched only when WebGPU is tried) for WebGPU.
 */
import type * as Ort from 'onnxruntime-web/wasm';

import { UltrafaceError } from '../../core/errors.js';
import type { Backend } from '../detector-core.js';

export type ExecutionProviderName = 'wasm' | 'webgpu';
export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['webgpu', 'wasm'];

/** The files each execution provider loads from `wasmPaths`: onnxruntime-web's script first. */
export const RUNTIME_FILES: Readonly<Record<ExecutionProviderName, readonly string[]>> = {
  wasm: ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'],
  webgpu: [
    'ort.webgpu.min.mjs',
    'ort-wasm-simd-threaded.asyncify.mjs',
    'ort-wasm-simd-threaded.asyncify.wasm',
  ],
};

/** Which backend a detector runs on, and why the ones before it were passed over. */
export interface BackendInfo {
  readonly executionProvider: ExecutionProviderName;
  /** Wasm threads (1 on WebGPU, where the wasm side only glues). */
  readonly threads: number;
  /** Why `threads` is lower than asked, if it is. */
  readonly threadsNote: string | undefined;
  /** Execution providers tried before `executionProvider`, each with the reason it was not used. */
  readonly fallbacks: readonly {
    readonly executionProvider: ExecutionProviderName;
    readonly reason: string;
  }[];
}

/** A detector's wasm settings; undefined: as the page's first detector set them (`pageSettings`). */
export interface WasmSettings {
  readonly threads: number | undefined;
  /** Absolute URL folder ending in '/'. */
  readonly wasmPaths: string | undefined;
}

/** The wasm settings a detector starts with: its own, else the page's. */
export interface PageSettings {
  readonly threads: number | undefined;
  readonly wasmPaths: string;
}

type OrtModule = typeof Ort;

/** The part of WebGPU's API used here (TypeScript's DOM library does not declare WebGPU). */
interface GpuLike {
  requestAdapter(): Promise<{ readonly info?: { readonly isFallbackAdapter?: boolean } } | null>;
}

/** One onnxruntime-web instance: its module, and the settings it read when it started (read once, then fixed). */
interface Runtime {
  readonly ort: OrtModule;
  readonly wasmPaths: string;
  readonly threads: number;
  readonly note: string | undefined;
  /** Set when its backend failed to start: onnxruntime-web keeps that failure for the life of this instance. */
  failed?: string;
}

/**
 * The page's onnxruntime-web instances, one per execution provider (each build is its own module with its own
 * `ort.env`), and the settings of the first detector that got a session, which later detectors inherit when they
 * leave an option out. Module state is unavoidable here: onnxruntime-web's own state is per page.
 */
const runtimes = new Map<ExecutionProviderName, Promise<Runtime>>();
let page: PageSettings | undefined;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function refuse(received: string, expected: string): UltrafaceError {
  return new UltrafaceError(
    'E_INVALID_OPTION',
    `Expected the wasm settings of the first detector on this page (${expected}) but received ${received}: ` +
      'onnxruntime-web reads them once, when it starts; leave them out to keep them, or reload the page to ' +
      'change them',
  );
}

/**
 * The settings a detector gets: its own, else those of the page's first detector. `wasmPaths` is needed once per
 * page, and cannot change (one onnxruntime-web per page).
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function pageSettings(requested: WasmSettings): PageSettings {
  const wasmPaths = requested.wasmPaths ?? page?.wasmPaths;
  if (wasmPaths === undefined) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      "Expected wasmPaths, the URL folder that serves onnxruntime-web's runtime files (ort.wasm.min.mjs, " +
        'ort-wasm-simd-threaded.mjs and .wasm from node_modules/onnxruntime-web/dist), for the first detector of ' +
        "this page but received undefined; e.g. { wasmPaths: '/ort/' }",
    );
  }
  if (page && page.wasmPaths !== wasmPaths) {
    throw refuse(`wasmPaths ${wasmPaths}`, `wasmPaths ${page.wasmPaths}`);
  }
  return { threads: requested.threads ?? page?.threads, wasmPaths };
}

/** Threads onnxruntime-web can use here: more than one needs SharedArrayBuffer, i.e. a cross-origin isolated page. */
function resolveThreads(requested: number | undefined): { threads: number; note: string | undefined } {
  const isolated = globalThis.crossOriginIsolated;
  const cores = globalThis.navigator.hardwareConcurrency || 1;
  if (!isolated) {
    return {
      threads: 1,
      note:
        requested !== undefined && requested > 1
          ? `${requested} threads were asked for but the page is not cross-origin isolated (serve it with the ` +
            'headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
          : undefined,
    };
  }
  // onnxruntime-web's own default: half the cores, at most 4.
  return { threads: requested ?? Math.min(4, Math.ceil(cores / 2)), note: undefined };
}

/**
 * Checks that `wasmPaths` serves the runtime's files before onnxruntime-web is started, so that a wrong folder
 * fails here, where a retry with the right one still works, and not inside onnxruntime-web, which would keep the
 * failure. A HEAD request each; a server that refuses HEAD (405, 501) is let through.
 */
async function checkFiles(ep: ExecutionProviderName, wasmPaths: string): Promise<void> {
  const problems = await Promise.all(
    RUNTIME_FILES[ep].map(async (file) => {
      const url = new URL(file, wasmPaths).href;
      try {
        const response = await fetch(url, { method: 'HEAD' });
        if (response.ok || response.status === 405 || response.status === 501) return undefined;
        return `${url}: HTTP ${response.status}`;
      } catch (error) {
        return `${url}: ${describeError(error)} (a network error, or a cross-origin folder without CORS)`;
      }
    }),
  );
  const missing = problems.filter((p) => p !== undefined);
  if (missing.length > 0) {
    throw new Error(
      `onnxruntime-web's runtime files are not served at ${wasmPaths} (${missing.join('; ')}); copy ` +
        `${RUNTIME_FILES[ep].join(', ')} from node_modules/onnxruntime-web/dist there`,
    );
  }
}

async function startRuntime(
  ep: ExecutionProviderName,
  threads: number | undefined,
  wasmPaths: string,
): Promise<Runtime> {
  await checkFiles(ep, wasmPaths);
  const url = new URL(RUNTIME_FILES[ep][0], wasmPaths).href;
  const ort = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as OrtModule;
  const resolved = ep === 'wasm' ? resolveThreads(threads) : { threads: 1, note: undefined };
  ort.env.wasm.numThreads = resolved.threads;
  ort.env.wasm.wasmPaths = wasmPaths;
  return { ort, wasmPaths, threads: resolved.threads, note: resolved.note };
}

/**
 * The page's onnxruntime-web instance for `ep`, started on first use. Asking for other threads than a running
 * instance read is refused rather than silently given the first ones. An instance that failed to start is kept
 * (onnxruntime-web would fail again) unless the retry names another `wasmPaths`, which starts a new instance.
 * @throws UltrafaceError E_INVALID_OPTION; Error when the runtime cannot start (a reason for `fallbacks`)
 */
async function runtimeFor(ep: ExecutionProviderName, settings: PageSettings): Promise<Runtime> {
  const existing = await runtimes.get(ep)?.catch(() => undefined);
  if (existing && existing.wasmPaths === settings.wasmPaths) {
    if (existing.failed) {
      throw new Error(
        `${existing.failed} (onnxruntime-web keeps a failed start of its backend for the life of the page: ` +
          'reload it, or pass another wasmPaths)',
      );
    }
    const wanted = ep === 'wasm' ? resolveThreads(settings.threads).threads : 1;
    if (existing.threads !== wanted) {
      throw refuse(`threads ${wanted}`, `threads ${existing.threads}`);
    }
    return existing;
  }
  if (existing && !existing.failed) {
    throw refuse(`wasmPaths ${settings.wasmPaths}`, `wasmPaths ${existing.wasmPaths}`);
  }
  const started = startRuntime(ep, settings.threads, settings.wasmPaths);
  runtimes.set(ep, started);
  started.catch(() => {
    // Nothing of onnxruntime-web ran: forget the attempt, so a retry starts afresh.
    if (runtimes.get(ep) === started) runtimes.delete(ep);
  });
  return started;
}

/**
 * Why WebGPU cannot be used here, or undefined when it can. A software (fallback) adapter is passed over while
 * another provider remains to be tried, and used when WebGPU is the last choice.
 */
async function webgpuUnavailable(lastChoice: boolean): Promise<string | undefined> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GpuLike }).gpu;
  if (!gpu)
    return 'navigator.gpu is missing (no WebGPU in this browser, or the page is not a secure context)';
  let adapter: Awaited<ReturnType<GpuLike['requestAdapter']>>;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${describeError(error)}`;
  }
  if (!adapter)
    return 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null; GPU blocked or disabled)';
  if (adapter.info?.isFallbackAdapter && !lastChoice) {
    return 'the only WebGPU adapter is a software fallback, slower than wasm';
  }
  return undefined;
}

export interface WebSession {
  readonly backend: Backend;
  readonly info: BackendInfo;
}

/** onnxruntime-common's message when a backend's `init` failed (then kept for the instance's life). */
const BACKEND_FAILED = /no available backend found/i;

/**
 * Creates a session on the first execution provider of `order` that works here.
 * @param settings from `pageSettings`
 * @throws UltrafaceError E_MODEL_LOAD with every provider's reason when none does; E_INVALID_OPTION (see
 *   `runtimeFor`)
 */
export async function createWebSession(
  runnable: Uint8Array,
  inputName: string,
  source: string,
  order: readonly ExecutionProviderName[],
  settings: PageSettings,
): Promise<WebSession> {
  const fallbacks: { executionProvider: ExecutionProviderName; reason: string }[] = [];
  for (const [index, ep] of order.entries()) {
    if (ep === 'webgpu') {
      const reason = await webgpuUnavailable(index === order.length - 1);
      if (reason) {
        fallbacks.push({ executionProvider: ep, reason });
        continue;
      }
    }
    let runtime: Runtime;
    try {
      runtime = await runtimeFor(ep, settings);
    } catch (error) {
      if (error instanceof UltrafaceError) throw error;
      fallbacks.push({ executionProvider: ep, reason: describeError(error) });
      continue;
    }
    let session: Ort.InferenceSession;
    try {
      session = await runtime.ort.InferenceSession.create(runnable, {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3, // upstream files carry unused BN counters; their removal is not worth a warning each
      });
    } catch (error) {
      const reason = describeError(error);
      if (BACKEND_FAILED.test(reason)) {
        runtime.failed = `onnxruntime-web from ${runtime.wasmPaths} failed to start: ${reason}`;
      }
      fallbacks.push({ executionProvider: ep, reason });
      continue;
    }
    page ??= settings;
    return {
      backend: sessionBackend(runtime.ort, session, inputName),
      info: { executionProvider: ep, threads: runtime.threads, threadsNote: runtime.note, fallbacks },
    };
  }
  const reasons = fallbacks.map((f) => `${f.executionProvider}: ${f.reason}`).join('; ');
  throw new UltrafaceError(
    'E_MODEL_LOAD',
    `onnxruntime-web could not run ${source} on ${order.join(' or ')} (${reasons})`,
  );
}

function sessionBackend(ort: OrtModule, session: Ort.InferenceSession, inputName: string): Backend {
  return {
    async run(input, dims, consume) {
      const tensor = new ort.Tensor('float32', input, [...dims]);
      let outputs: Ort.InferenceSession.OnnxValueMapType | undefined;
      try {
        outputs = await session.run({ [inputName]: tensor });
        const { scores, boxes } = outputs;
        return consume(await floats(scores), await floats(boxes));
      } finally {
        tensor.dispose();
        if (outputs) for (const value of Object.values(outputs)) value.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** The values of an output tensor on the CPU (outputs of the wasm backend already are; WebGPU's are copied). */
async function floats(tensor: Ort.Tensor): Promise<Float32Array> {
  const data = tensor.location === 'cpu' ? tensor.data : await tensor.getData();
  return data as Float32Array;
}
