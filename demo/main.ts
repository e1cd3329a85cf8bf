/**
 * The ultraface demo page: pick an image or start the webcam; faces are drawn live with their scores, with FPS and
 * per-stage timings. Settings live in the query string (`?model=RFB-320.onnx&threads=2&ep=wasm&resample=exact
 * &size=320&score=0.7&iou=0.3`) so a reload keeps them; threads need a reload because onnxruntime-web starts its wasm runtime once per
 * page. `window.ultrafaceDemo` exposes the state and the library, for tests and the console.
 */
import {
  createFaceDetector,
  type BackendInfo,
  type Detection,
  type ExecutionProviderName,
  type FaceDetector,
  type FaceDetectorOptions,
  type InputSizeName,
  type StageTimings,
  type WebImageInput,
} from '../src/runtime/web/index.js';
import type { BenchResult, DemoModel, DemoState } from './api.js';

const INPUT_SIZES: readonly InputSizeName[] = [128, 160, 320, 480, 640, 1280];
const WASM_PATHS = new URL('./ort/', location.href).href;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`demo page: #${id} is missing`);
  return found;
}

const ui = {
  model: element('model', HTMLSelectElement),
  modelFile: element('model-file', HTMLInputElement),
  backend: element('backend', HTMLSelectElement),
  threads: element('threads', HTMLSelectElement),
  resampling: element('resampling', HTMLSelectElement),
  inputSize: element('input-size', HTMLSelectElement),
  score: element('score', HTMLInputElement),
  scoreValue: element('score-value', HTMLOutputElement),
  iou: element('iou', HTMLInputElement),
  iouValue: element('iou-value', HTMLOutputElement),
  imageFile: element('image-file', HTMLInputElement),
  start: element('start', HTMLButtonElement),
  stop: element('stop', HTMLButtonElement),
  status: element('status', HTMLDivElement),
  view: element('view', HTMLCanvasElement),
  video: element('video', HTMLVideoElement),
  fps: element('fps', HTMLTableCellElement),
  pre: element('t-pre', HTMLTableCellElement),
  inf: element('t-inf', HTMLTableCellElement),
  post: element('t-post', HTMLTableCellElement),
  draw: element('t-draw', HTMLTableCellElement),
  faceCount: element('n-faces', HTMLTableCellElement),
  frameCount: element('n-frames', HTMLTableCellElement),
  faces: element('faces', HTMLPreElement),
};
const view = ui.view.getContext('2d');
if (!view) throw new Error('demo page: no 2D canvas');

const params = new URLSearchParams(location.search);
const state: DemoState = {
  ready: false,
  model: undefined,
  backend: undefined,
  inputSize: undefined,
  imageRuns: 0,
  frames: 0,
  framesWithFaces: 0,
  faces: [],
  timings: undefined,
  error: undefined,
};

let detector: FaceDetector | undefined;
/** The model of the "Own model" picker, when chosen. */
let ownModel: { name: string; bytes: Uint8Array } | undefined;
/** Settings changes run one after another; this is the last one. */
let applying: Promise<void> = Promise.resolve();
/** The detection in progress, which a settings change waits for before disposing its detector. */
let working: Promise<unknown> = Promise.resolve();
let still: ImageBitmap | undefined;
let stream: MediaStream | undefined;
const frameTimes: number[] = [];

function setParam(name: string, value: string): void {
  params.set(name, value);
  history.replaceState(null, '', `?${params.toString()}`);
}

function showStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.toggleAttribute('data-error', error);
  state.error = error ? text : undefined;
}

function describeBackend(info: BackendInfo): string {
  const where =
    info.executionProvider === 'wasm'
      ? `wasm, ${info.threads} thread${info.threads === 1 ? '' : 's'}${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`
      : 'WebGPU';
  const skipped = info.fallbacks.map((f) => `\n${f.executionProvider} not used: ${f.reason}`).join('');
  return `${state.model ?? ''} on ${where}${info.threadsNote ? `\n${info.threadsNote}` : ''}${skipped}`;
}

function providers(): readonly ExecutionProviderName[] {
  const value = ui.backend.value;
  return value === 'wasm' ? ['wasm'] : value === 'webgpu' ? ['webgpu'] : ['webgpu', 'wasm'];
}

/** (Re)creates the detector for the current settings, after the detection in progress. */
function applySettings(): Promise<void> {
  applying = applying.then(async () => {
    state.ready = false;
    await working.catch(() => undefined);
    const old = detector;
    detector = undefined;
    await old?.dispose();
    const modelUrl = ui.model.value ? new URL(`./models/${ui.model.value}`, location.href).href : undefined;
    const model = ownModel?.bytes ?? modelUrl;
    state.model = ownModel?.name ?? ui.model.value;
    if (model === undefined) {
      showStatus(
        'No model: pick an .onnx file ("Own model"), or rebuild the demo with models (see README).',
        true,
      );
      return;
    }
    const threads = params.get('threads');
    const base: FaceDetectorOptions = {
      model,
      executionProviders: providers(),
      wasmPaths: WASM_PATHS,
      resampling: ui.resampling.value === 'canvas' ? 'canvas' : 'exact',
      scoreThreshold: Number(ui.score.value),
      iouThreshold: Number(ui.iou.value),
      ...(threads ? { threads: Number(threads) } : {}),
    };
    showStatus(`Loading ${state.model}…`);
    try {
      let created = await createFaceDetector(base);
      const wanted = Number(ui.inputSize.value) as InputSizeName;
      if (created.model.dynamicSize && ui.inputSize.value && wanted !== created.model.inputSize.name) {
        await created.dispose();
        created = await createFaceDetector({ ...base, inputSize: wanted });
      }
      detector = created;
      state.backend = created.backend;
      state.inputSize = created.model.inputSize.name;
      ui.inputSize.disabled = !created.model.dynamicSize;
      ui.inputSize.value = String(created.model.inputSize.name);
      ui.inputSize.title = created.model.dynamicSize
        ? 'This model takes any input size'
        : 'This model is fixed to one input size (export with --raw --dynamic-size for others)';
      showStatus(describeBackend(created.backend));
      state.ready = true;
      if (still && !stream) await detectStill();
    } catch (error) {
      showStatus(
        `Could not load ${state.model}: ${error instanceof Error ? error.message : String(error)}`,
        true,
      );
    }
  });
  return applying;
}

function drawFaces(
  source: CanvasImageSource,
  width: number,
  height: number,
  faces: readonly Detection[],
): void {
  if (ui.view.width !== width || ui.view.height !== height) {
    ui.view.width = width;
    ui.view.height = height;
  }
  view!.drawImage(source, 0, 0, width, height);
  const line = Math.max(2, Math.round(width / 320));
  view!.lineWidth = line;
  view!.font = `${6 * line + 4}px system-ui, sans-serif`;
  view!.textBaseline = 'bottom';
  for (const { box, score } of faces) {
    view!.strokeStyle = '#2f2';
    view!.strokeRect(box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1);
    const label = score.toFixed(2);
    const labelWidth = view!.measureText(label).width + 2 * line;
    view!.fillStyle = '#2f2';
    view!.fillRect(box.x1 - line / 2, box.y1 - 7 * line - 4, labelWidth, 7 * line + 4);
    view!.fillStyle = '#000';
    view!.fillText(label, box.x1 + line, box.y1 - 1);
  }
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

function showStats(faces: readonly Detection[], timings: StageTimings | undefined, drawMs: number): void {
  state.faces = faces;
  state.timings = timings;
  if (timings) {
    ui.pre.textContent = ms(timings.preprocessMs);
    ui.inf.textContent = ms(timings.inferenceMs);
    ui.post.textContent = ms(timings.postprocessMs);
  }
  ui.draw.textContent = ms(drawMs);
  ui.faceCount.textContent = String(faces.length);
  ui.frameCount.textContent = String(state.frames);
  ui.faces.textContent = faces
    .map(
      ({ box, score }) =>
        `${score.toFixed(3)}  ${[box.x1, box.y1, box.x2, box.y2].map((v) => v.toFixed(0)).join(' ')}`,
    )
    .join('\n');
}

/** Detects on `source` (sized width x height), draws the result and updates the statistics. */
async function detectAndDraw(
  source: WebImageInput & CanvasImageSource,
  width: number,
  height: number,
): Promise<Detection[]> {
  if (!detector) return [];
  let timings: StageTimings | undefined;
  const faces = await detector.detect(source, {
    onTimings: (t) => {
      timings = t;
    },
  });
  const start = performance.now();
  drawFaces(source, width, height, faces);
  showStats(faces, timings, performance.now() - start);
  return faces;
}

async function detectStill(): Promise<void> {
  if (!still || !detector) return;
  const run = detectAndDraw(still, still.width, still.height);
  working = run;
  await run;
  state.imageRuns++;
}

async function pickImage(file: File): Promise<void> {
  stopCamera();
  still?.close();
  still = undefined;
  try {
    still = await createImageBitmap(file);
  } catch (error) {
    showStatus(`Cannot decode ${file.name}: ${error instanceof Error ? error.message : String(error)}`, true);
    return;
  }
  await applying;
  try {
    await detectStill();
  } catch (error) {
    showStatus(`Detection failed: ${error instanceof Error ? error.message : String(error)}`, true);
  }
}

/** One video frame: copied into a VideoFrame (so boxes and picture match), detected, drawn, closed. */
async function processFrame(): Promise<void> {
  if (!detector || !state.ready || ui.video.readyState < 2) return;
  const current = detector;
  const frame = typeof VideoFrame === 'function' ? new VideoFrame(ui.video) : undefined;
  try {
    const faces = await detectAndDraw(frame ?? ui.video, ui.video.videoWidth, ui.video.videoHeight);
    state.frames++;
    if (faces.length > 0) state.framesWithFaces++;
    const now = performance.now();
    frameTimes.push(now);
    while (frameTimes.length > 0 && frameTimes[0] < now - 1000) frameTimes.shift();
    ui.fps.textContent = frameTimes.length.toFixed(0);
  } catch (error) {
    // A detector disposed by a settings change mid-frame is expected; anything else is shown.
    if (detector === current) {
      showStatus(`Detection failed: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  } finally {
    frame?.close();
  }
}

let videoBusy = false;

/** On each new video frame: process it unless the previous one is still being processed (then it is skipped). */
function scheduleFrame(): void {
  if (!stream) return;
  ui.video.requestVideoFrameCallback(() => {
    if (!videoBusy) {
      videoBusy = true;
      const run = processFrame().finally(() => {
        videoBusy = false;
      });
      working = run;
    }
    scheduleFrame();
  });
}

async function startCamera(): Promise<void> {
  still?.close();
  still = undefined;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (error) {
    showStatus(`No camera: ${error instanceof Error ? error.message : String(error)}`, true);
    return;
  }
  ui.video.srcObject = stream;
  await ui.video.play();
  ui.start.disabled = true;
  ui.stop.disabled = false;
  scheduleFrame();
}

function stopCamera(): void {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  stream = undefined;
  ui.video.srcObject = null;
  ui.start.disabled = false;
  ui.stop.disabled = true;
  ui.fps.textContent = '–';
}

async function benchmark(urls: readonly string[], passes: number): Promise<BenchResult> {
  await window.ultrafaceDemo.settled();
  if (!detector) throw new Error(state.error ?? 'no detector');
  const bitmaps = await Promise.all(
    urls.map(async (url) => createImageBitmap(await (await fetch(url)).blob())),
  );
  const samples = { detect: [] as number[], pre: [] as number[], inf: [] as number[], post: [] as number[] };
  try {
    for (let pass = 0; pass <= passes; pass++) {
      for (const bitmap of bitmaps) {
        const start = performance.now();
        let timings: StageTimings | undefined;
        await detector.detect(bitmap, {
          onTimings: (t) => {
            timings = t;
          },
        });
        const total = performance.now() - start;
        if (pass > 0 && timings) {
          samples.detect.push(total);
          samples.pre.push(timings.preprocessMs);
          samples.inf.push(timings.inferenceMs);
          samples.post.push(timings.postprocessMs);
        }
      }
    }
  } finally {
    for (const bitmap of bitmaps) bitmap.close();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    detectMs: median(samples.detect),
    preprocessMs: median(samples.pre),
    inferenceMs: median(samples.inf),
    postprocessMs: median(samples.post),
    runs: samples.detect.length,
  };
}

async function init(): Promise<void> {
  const cores = navigator.hardwareConcurrency || 1;
  for (let n = 1; n <= Math.max(cores, 4); n++) ui.threads.add(new Option(String(n), String(n)));
  ui.threads.add(new Option('default', ''), 0);
  ui.threads.value = params.get('threads') ?? '';
  ui.threads.disabled = !crossOriginIsolated;
  ui.threads.title = crossOriginIsolated
    ? 'Changing threads reloads the page (onnxruntime-web starts once per page)'
    : 'Threads need a cross-origin isolated page (COOP/COEP headers)';
  for (const size of INPUT_SIZES) ui.inputSize.add(new Option(String(size), String(size)));
  ui.inputSize.value = params.get('size') ?? '320';
  ui.backend.value = params.get('ep') ?? 'auto';
  ui.resampling.value = params.get('resample') ?? 'exact';
  ui.score.value = params.get('score') ?? ui.score.value;
  ui.iou.value = params.get('iou') ?? ui.iou.value;
  ui.scoreValue.value = Number(ui.score.value).toFixed(2);
  ui.iouValue.value = Number(ui.iou.value).toFixed(2);

  const models = await fetch('./models.json')
    .then(async (response) => (await response.json()) as DemoModel[])
    .catch(() => []);
  for (const m of models) ui.model.add(new Option(m.label, m.file));
  const wanted = params.get('model');
  if (wanted && models.some((m) => m.file === wanted)) ui.model.value = wanted;

  ui.model.addEventListener('change', () => {
    ownModel = undefined;
    ui.modelFile.value = '';
    setParam('model', ui.model.value);
    void applySettings();
  });
  ui.modelFile.addEventListener('change', () => {
    const file = ui.modelFile.files?.[0];
    if (!file) return;
    void file.arrayBuffer().then((buffer) => {
      ownModel = { name: file.name, bytes: new Uint8Array(buffer) };
      return applySettings();
    });
  });
  ui.backend.addEventListener('change', () => {
    setParam('ep', ui.backend.value);
    void applySettings();
  });
  ui.resampling.addEventListener('change', () => {
    setParam('resample', ui.resampling.value);
    void applySettings();
  });
  ui.threads.addEventListener('change', () => {
    setParam('threads', ui.threads.value);
    location.reload();
  });
  ui.inputSize.addEventListener('change', () => {
    setParam('size', ui.inputSize.value);
    void applySettings();
  });
  for (const [input, output, name] of [
    [ui.score, ui.scoreValue, 'score'],
    [ui.iou, ui.iouValue, 'iou'],
  ] as const) {
    input.addEventListener('input', () => {
      output.value = Number(input.value).toFixed(2);
    });
    input.addEventListener('change', () => {
      setParam(name, input.value);
      void applySettings();
    });
  }
  ui.imageFile.addEventListener('change', () => {
    const file = ui.imageFile.files?.[0];
    if (file) void pickImage(file);
  });
  ui.start.addEventListener('click', () => void startCamera());
  ui.stop.addEventListener('click', stopCamera);
  await applySettings();
}

const started = init();
window.ultrafaceDemo = {
  state,
  lib: { createFaceDetector },
  settled: async () => {
    await started;
    await applying;
  },
  benchmark,
};
