/**
 * onnxruntime-web sessions: the wasm backend (SIMD; threads when the page is cross-origin isolated) and WebGPU
 * when the browser has a hardware adapter, tried in the caller's order, each refusal kept with its reason.
 *
 * Two onnxruntime-web builds are used so that pages without WebGPU never download its runtime: `onnxruntime-web/wasm`
 * (needs `ort-wasm-simd-threaded.{mjs,wasm}`, ~14 MB) and, loaded only when WebGPU is tried,
 * `onnxruntime-web/webgpu` (needs `ort-wasm-simd-threaded.asyncify.{mjs,wasm}`).
 */
import type * as Ort from 'onnxruntime-web/wasm';

import { UltrafaceError } from '../../core/errors.js';
import type { Backend } from '../detector-core.js';

export type ExecutionProviderName = 'wasm' | 'webgpu';
export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['webgpu', 'wasm'];

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

export interface WasmSettings {
  /** Requested threads; undefined for onnxruntime's default. */
  readonly threads: number | undefined;
  /** Where `ort-wasm-simd-threaded*.{mjs,wasm}` are served (a URL prefix ending in '/'); undefined: next to the script. */
  readonly wasmPaths: string | undefined;
}

type OrtModule = typeof Ort;

/** The part of WebGPU's API used here (TypeScript's DOM library does not declare WebGPU). */
interface GpuLike {
  requestAdapter(): Promise<{ readonly info?: { readonly isFallbackAdapter?: boolean } } | null>;
}

/**
 * The settings each onnxruntime-web build started with. onnxruntime-web reads its wasm settings once per page
 * (they live in its own module state, `ort.env`), so a later detector that asks for others is refused rather
 * than silently given the first ones.
 */
const started = new Map<ExecutionProviderName, { threads: number; wasmPaths: string | undefined }>();

function loadOrt(ep: ExecutionProviderName): Promise<OrtModule> {
  return ep === 'wasm' ? import('onnxruntime-web/wasm') : import('onnxruntime-web/webgpu');
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

function configure(
  ort: OrtModule,
  ep: ExecutionProviderName,
  threads: number,
  wasmPaths: string | undefined,
): void {
  const first = started.get(ep);
  if (first) {
    if (first.threads !== threads || first.wasmPaths !== wasmPaths) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected the wasm settings of the first detector on this page (threads ${first.threads}, wasmPaths ` +
          `${String(first.wasmPaths)}) but received threads ${threads}, wasmPaths ${String(wasmPaths)}: ` +
          'onnxruntime-web starts its wasm runtime once per page; reload the page to change them',
      );
    }
    return;
  }
  ort.env.wasm.numThreads = threads;
  if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
  started.set(ep, { threads, wasmPaths });
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

/**
 * Creates a session on the first execution provider of `order` that works here.
 * @throws UltrafaceError E_MODEL_LOAD with every provider's reason when none does; E_INVALID_OPTION (see `configure`)
 */
export async function createWebSession(
  runnable: Uint8Array,
  inputName: string,
  source: string,
  order: readonly ExecutionProviderName[],
  settings: WasmSettings,
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
    const { threads, note } =
      ep === 'wasm' ? resolveThreads(settings.threads) : { threads: 1, note: undefined };
    let ort: OrtModule;
    try {
      ort = await loadOrt(ep);
    } catch (error) {
      fallbacks.push({
        executionProvider: ep,
        reason: `onnxruntime-web could not be loaded: ${describeError(error)}`,
      });
      continue;
    }
    configure(ort, ep, threads, settings.wasmPaths);
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(runnable, {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3, // upstream files carry unused BN counters; their removal is not worth a warning each
      });
    } catch (error) {
      fallbacks.push({ executionProvider: ep, reason: describeError(error) });
      continue;
    }
    return {
      backend: sessionBackend(ort, session, inputName),
      info: { executionProvider: ep, threads, threadsNote: note, fallbacks },
    };
  }
  const reasons = fallbacks.map((f) => `${f.executionProvider}: ${f.reason}`).join('; ');
  const hint = /fetch|import|\.wasm|\.mjs|backend/i.test(reasons)
    ? '. Serve ort-wasm-simd-threaded*.mjs and .wasm from node_modules/onnxruntime-web/dist with your page and ' +
      "pass their folder as { wasmPaths: '/ort/' }"
    : '';
  throw new UltrafaceError(
    'E_MODEL_LOAD',
    `onnxruntime-web could not run ${source} on ${order.join(' or ')} (${reasons})${hint}`,
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
