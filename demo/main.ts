/**
 * The ultraface demo page: a sample photo with its faces on opening; drop, paste or pick a photo, or start the
 * webcam; faces are drawn with their scores, with the total `detect()` time and its stages (and FPS for video).
 *
 * Thresholds are per-call options: moving a slider re-runs `detect()` on the same detector. Other settings make a
 * new detector from the model bytes already fetched. Settings live in the query string (`?model=RFB-320.onnx
 * &threads=2&ep=wasm&resample=exact&size=320&score=0.7&iou=0.3`) so a reload keeps them; threads need a reload
 * because onnxruntime-web reads them once per page, and the photo on screen is kept across it (IndexedDB).
 * Errors say what they are about: the model, the photo or the camera, and each clears when that thing next
 * works. `window.ultrafaceDemo` exposes the state and the library, for tests and the console.
 */
import {
  createFaceDetector,
  decodeImage,
  type BackendInfo,
  type Detection,
  type DetectOptions,
  type ExecutionProviderName,
  type FaceDetector,
  type FaceDetectorOptions,
  type InputSizeName,
  type StageTimings,
  type WebImageInput,
} from '../src/runtime/web/index.js';
import type { BenchResult, DemoModel, DemoState, ErrorKind } from './api.js';

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
  sample: element('sample', HTMLButtonElement),
  start: element('start', HTMLButtonElement),
  stop: element('stop', HTMLButtonElement),
  status: element('status', HTMLDivElement),
  backendNote: element('backend-note', HTMLParagraphElement),
  view: element('view', HTMLCanvasElement),
  placeholder: element('placeholder', HTMLDivElement),
  caption: element('caption', HTMLElement),
  video: element('video', HTMLVideoElement),
  fps: element('fps', HTMLTableCellElement),
  detect: element('t-detect', HTMLTableCellElement),
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
  loads: 0,
  imageName: undefined,
  imageRuns: 0,
  frames: 0,
  framesWithFaces: 0,
  faces: [],
  timings: undefined,
  detectMs: undefined,
  error: undefined,
  errorKind: undefined,
};

let detector: FaceDetector | undefined;
/** The model of the "Own model" picker, when chosen. */
let ownModel: { name: string; bytes: Uint8Array } | undefined;
/** Model bytes by URL, fetched once: a new detector for other settings reuses them. */
const modelBytes = new Map<string, Promise<Uint8Array>>();
/** Settings changes run one after another; this is the last one. */
let applying: Promise<void> = Promise.resolve();
/** The detection in progress, which a settings change waits for before disposing its detector. */
let working: Promise<unknown> = Promise.resolve();
/** The photo on screen: decoded once, re-detected when a threshold moves; `blob` is kept across a reload. */
let still: { bitmap: ImageBitmap; name: string; blob: Blob } | undefined;
/** Counts photo requests, so that a slow decode of an older one cannot replace a newer one. */
let imageRequest = 0;
let samples: string[] = [];
let sampleIndex = 0;
let stream: MediaStream | undefined;
const frameTimes: number[] = [];

// ---- status and errors ----

const errors: Record<ErrorKind, string | undefined> = {
  model: undefined,
  image: undefined,
  camera: undefined,
};
let info = '';
/** Shown first: the model's error (nothing works without it), then the photo's, then the camera's. */
const ERROR_ORDER: readonly ErrorKind[] = ['model', 'image', 'camera'];

function renderStatus(): void {
  const kind = ERROR_ORDER.find((k) => errors[k] !== undefined);
  const text = kind ? errors[kind]! : info;
  ui.status.textContent = text;
  ui.status.toggleAttribute('data-error', kind !== undefined);
  state.error = kind ? text : undefined;
  state.errorKind = kind;
}

function showError(kind: ErrorKind, text: string): void {
  errors[kind] = text;
  renderStatus();
}

function clearError(kind: ErrorKind): void {
  errors[kind] = undefined;
  renderStatus();
}

function showInfo(text: string): void {
  info = text;
  renderStatus();
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function setParam(name: string, value: string): void {
  params.set(name, value);
  history.replaceState(null, '', `?${params.toString()}`);
}

/** One line for the status; the notes (threads, providers passed over) go under the settings. */
function describeBackend(backend: BackendInfo): { line: string; notes: string } {
  const where =
    backend.executionProvider === 'wasm'
      ? `wasm, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`
      : 'WebGPU';
  const notes = [
    ...(backend.threadsNote ? [backend.threadsNote] : []),
    ...backend.fallbacks.map((f) => `${f.executionProvider} not used: ${f.reason}`),
  ];
  return { line: `${state.model ?? ''} on ${where}`, notes: notes.join('\n') };
}

// ---- the detector ----

function providers(): readonly ExecutionProviderName[] {
  const value = ui.backend.value;
  return value === 'wasm' ? ['wasm'] : value === 'webgpu' ? ['webgpu'] : ['webgpu', 'wasm'];
}

/** The thresholds of the sliders, passed to each `detect()`. */
function thresholds(): DetectOptions {
  return { scoreThreshold: Number(ui.score.value), iouThreshold: Number(ui.iou.value) };
}

function fetchModel(url: string): Promise<Uint8Array> {
  let bytes = modelBytes.get(url);
  if (!bytes) {
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${url}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    modelBytes.set(url, bytes);
    bytes.catch(() => modelBytes.delete(url)); // fetched again next time
  }
  return bytes;
}

/** (Re)creates the detector for the current model settings, after the detection in progress. */
function applySettings(): Promise<void> {
  applying = applying.then(async () => {
    state.ready = false;
    await working.catch(() => undefined);
    const old = detector;
    detector = undefined;
    await old?.dispose();
    state.model = ownModel?.name ?? ui.model.value;
    if (!ownModel && !ui.model.value) {
      showError(
        'model',
        'No model: pick an .onnx file ("Own model", under Model and settings), or rebuild the demo with models ' +
          '(see README).',
      );
      return;
    }
    showInfo(`Loading ${state.model}…`);
    try {
      const model =
        ownModel?.bytes ?? (await fetchModel(new URL(`./models/${ui.model.value}`, location.href).href));
      const threads = params.get('threads');
      const base: FaceDetectorOptions = {
        model,
        executionProviders: providers(),
        wasmPaths: WASM_PATHS,
        resampling: ui.resampling.value === 'canvas' ? 'canvas' : 'exact',
        ...(threads ? { threads: Number(threads) } : {}),
      };
      let created = await createFaceDetector(base);
      state.loads++;
      const wanted = Number(ui.inputSize.value) as InputSizeName;
      if (created.model.dynamicSize && ui.inputSize.value && wanted !== created.model.inputSize.name) {
        await created.dispose();
        created = await createFaceDetector({ ...base, inputSize: wanted });
        state.loads++;
      }
      detector = created;
      state.backend = created.backend;
      state.inputSize = created.model.inputSize.name;
      ui.inputSize.disabled = !created.model.dynamicSize;
      ui.inputSize.value = String(created.model.inputSize.name);
      ui.inputSize.title = created.model.dynamicSize
        ? 'This model takes any input size'
        : 'This model is fixed to one input size (export with --raw --dynamic-size for others)';
      clearError('model');
      const described = describeBackend(created.backend);
      showInfo(described.line);
      ui.backendNote.textContent = described.notes;
      state.ready = true;
    } catch (error) {
      showError('model', `Could not load ${state.model}: ${message(error)}`);
      // The photo stays, without the faces an earlier model found on it.
      clearResult();
      if (still && !stream) drawFaces(still.bitmap, still.bitmap.width, still.bitmap.height, []);
      return;
    }
    // Outside the model's try: a photo's failure is the photo's.
    if (still && !stream) await redetect();
  });
  return applying;
}

// ---- drawing and statistics ----

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
  ui.view.hidden = false;
  ui.placeholder.hidden = true;
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
const facesText = (n: number): string => `${n} face${n === 1 ? '' : 's'}`;

function showStats(
  faces: readonly Detection[],
  timings: StageTimings | undefined,
  detectMs: number,
  drawMs: number,
): void {
  state.faces = faces;
  state.timings = timings;
  state.detectMs = detectMs;
  ui.detect.textContent = ms(detectMs);
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
  ui.caption.textContent = stream
    ? `${facesText(faces.length)} · webcam`
    : `${facesText(faces.length)} in ${state.imageName ?? 'the photo'} · detect() ${ms(detectMs)}`;
}

/** No photo on screen: the drop hint instead of the canvas, and no numbers from an earlier photo. */
function clearResult(): void {
  ui.view.hidden = true;
  ui.placeholder.hidden = false;
  ui.caption.textContent = '';
  state.faces = [];
  state.timings = undefined;
  state.detectMs = undefined;
  for (const cell of [ui.faceCount, ui.detect, ui.pre, ui.inf, ui.post, ui.draw]) cell.textContent = '–';
  ui.faces.textContent = '';
}

/**
 * Detects on `source` (sized width x height) with the current thresholds, draws the result and its numbers, unless
 * `shown()` says the source left the screen meanwhile (then undefined).
 */
async function detectAndDraw(
  current: FaceDetector,
  source: WebImageInput & CanvasImageSource,
  width: number,
  height: number,
  shown: () => boolean,
): Promise<Detection[] | undefined> {
  let timings: StageTimings | undefined;
  const start = performance.now();
  const faces = await current.detect(source, {
    ...thresholds(),
    onTimings: (t) => {
      timings = t;
    },
  });
  const detectMs = performance.now() - start;
  if (!shown()) return undefined;
  const drawStart = performance.now();
  drawFaces(source, width, height, faces);
  showStats(faces, timings, detectMs, performance.now() - drawStart);
  return faces;
}

// ---- photos ----

async function detectStillOnce(): Promise<void> {
  const photo = still;
  const current = detector;
  if (!photo || !current || stream) return;
  try {
    const shown = () => photo === still && !stream;
    if (!(await detectAndDraw(current, photo.bitmap, photo.bitmap.width, photo.bitmap.height, shown))) return;
    state.imageRuns++;
    clearError('image');
  } catch (error) {
    // A detector disposed by a settings change, or a photo replaced meanwhile: the next run shows the result.
    if (current !== detector || photo !== still) return;
    showError('image', `Detection failed on ${photo.name}: ${message(error)}`);
  }
}

let stillRun: Promise<void> | undefined;
let stillAgain = false;

/** Re-detects the photo on screen; calls while one runs are folded into one more run after it. */
function redetect(): Promise<void> {
  if (stillRun) {
    stillAgain = true;
    return stillRun;
  }
  const again = (): boolean => stillAgain; // set by calls made while a run awaits
  const run = (async () => {
    do {
      stillAgain = false;
      await detectStillOnce();
    } while (again());
  })().finally(() => {
    stillRun = undefined;
  });
  stillRun = run;
  working = run;
  return run;
}

/**
 * Shows a photo: decoded here once (EXIF orientation applied, `maxPixels` checked before decoding), then detected.
 * A photo that cannot be used clears the screen, so that nothing of the previous one is left beside its error.
 */
async function showImage(blob: Blob, name: string): Promise<void> {
  stopCamera();
  const request = ++imageRequest;
  let bitmap: ImageBitmap;
  try {
    bitmap = await decodeImage(blob);
  } catch (error) {
    if (request !== imageRequest) return;
    still?.bitmap.close();
    still = undefined;
    state.imageName = undefined;
    clearResult();
    showError('image', `Cannot use ${name}: ${message(error)}`);
    return;
  }
  if (request !== imageRequest) {
    bitmap.close();
    return;
  }
  still?.bitmap.close();
  still = { bitmap, name, blob };
  state.imageName = name;
  clearError('image');
  await redetect();
}

async function showSample(): Promise<void> {
  if (samples.length === 0) return;
  const file = samples[sampleIndex % samples.length];
  sampleIndex++;
  const response = await fetch(`./samples/${file}`);
  if (!response.ok) {
    showError('image', `Cannot load the sample photo ${file}: HTTP ${response.status}`);
    return;
  }
  await showImage(await response.blob(), `sample photo ${file}`);
}

/** Images dropped or pasted: a file, or (dragged from another page) its URL, fetched. */
async function takeTransfer(data: DataTransfer | null, what: string): Promise<void> {
  if (!data) return;
  const file = [...data.files].find((f) => f.type.startsWith('image/')) ?? data.files.item(0);
  if (file) {
    await showImage(file, file.name || `the ${what} image`);
    return;
  }
  const url = data
    .getData('text/uri-list')
    .split('\n')
    .find((line) => line && !line.startsWith('#'));
  if (!url) {
    showError(
      'image',
      `Nothing to use in what was ${what}: ${what === 'pasted' ? 'paste' : 'drop'} an image`,
    );
    return;
  }
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await showImage(await response.blob(), url);
  } catch (error) {
    showError(
      'image',
      `Cannot use ${url}: ${message(error)} (another site's images need CORS: save it and drop the file)`,
    );
  }
}

// ---- keeping the photo across the reload that a change of threads needs ----

const KEPT = { db: 'ultraface-demo', store: 'kept', key: 'photo' };

function openKept(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(KEPT.db, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(KEPT.store);
    };
    request.onsuccess = () => {
      resolve(request.result);
    };
    request.onerror = () => {
      reject(request.error ?? new Error('IndexedDB failed'));
    };
  });
}

async function keptPhoto(
  mode: IDBTransactionMode,
  act: (store: IDBObjectStore) => IDBRequest,
): Promise<unknown> {
  const db = await openKept();
  try {
    return await new Promise((resolve, reject) => {
      const request = act(db.transaction(KEPT.store, mode).objectStore(KEPT.store));
      request.onsuccess = () => {
        resolve(request.result);
      };
      request.onerror = () => {
        reject(request.error ?? new Error('IndexedDB failed'));
      };
    });
  } finally {
    db.close();
  }
}

async function keepPhoto(): Promise<void> {
  if (!still) return;
  const { blob, name } = still;
  await keptPhoto('readwrite', (store) => store.put({ blob, name }, KEPT.key));
}

/** The photo kept before a reload, taken out of storage. */
async function takeKeptPhoto(): Promise<{ blob: Blob; name: string } | undefined> {
  try {
    const kept = (await keptPhoto('readonly', (store) => store.get(KEPT.key))) as
      { blob: Blob; name: string } | undefined;
    if (kept) await keptPhoto('readwrite', (store) => store.delete(KEPT.key));
    return kept;
  } catch {
    return undefined; // no IndexedDB (private mode): start with the sample
  }
}

// ---- webcam ----

/** One video frame: copied into a VideoFrame (so boxes and picture match), detected, drawn, closed. */
async function processFrame(): Promise<void> {
  const current = detector;
  if (!current || !state.ready || ui.video.readyState < 2) return;
  const frame = typeof VideoFrame === 'function' ? new VideoFrame(ui.video) : undefined;
  try {
    const shown = (): boolean => {
      if (!stream) return false;
      state.frames++; // before the numbers are drawn, so that the counter shows this frame
      return true;
    };
    const faces = await detectAndDraw(
      current,
      frame ?? ui.video,
      ui.video.videoWidth,
      ui.video.videoHeight,
      shown,
    );
    if (!faces) return;
    if (faces.length > 0) state.framesWithFaces++;
    const now = performance.now();
    frameTimes.push(now);
    while (frameTimes.length > 0 && frameTimes[0] < now - 1000) frameTimes.shift();
    ui.fps.textContent = frameTimes.length.toFixed(0);
    clearError('camera');
  } catch (error) {
    // A detector disposed by a settings change mid-frame is expected; anything else is shown.
    if (detector === current) showError('camera', `Detection failed: ${message(error)}`);
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
  imageRequest++; // a photo still decoding is not shown over the webcam
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (error) {
    showError('camera', `No camera: ${message(error)}`);
    return;
  }
  still?.bitmap.close();
  still = undefined;
  state.imageName = undefined;
  clearError('image');
  clearError('camera');
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

// ---- benchmark (npm run bench:web) ----

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

// ---- start ----

async function init(): Promise<void> {
  const cores = navigator.hardwareConcurrency || 1;
  for (let n = 1; n <= Math.max(cores, 4); n++) ui.threads.add(new Option(String(n), String(n)));
  ui.threads.add(new Option('default', ''), 0);
  ui.threads.value = params.get('threads') ?? '';
  ui.threads.disabled = !crossOriginIsolated;
  ui.threads.title = crossOriginIsolated
    ? 'Changing threads reloads the page (onnxruntime-web reads them once per page); the photo is kept'
    : 'Threads need a cross-origin isolated page (COOP/COEP headers)';
  for (const size of INPUT_SIZES) ui.inputSize.add(new Option(String(size), String(size)));
  ui.inputSize.value = params.get('size') ?? '320';
  ui.backend.value = params.get('ep') ?? 'auto';
  ui.resampling.value = params.get('resample') ?? 'exact';
  ui.score.value = params.get('score') ?? ui.score.value;
  ui.iou.value = params.get('iou') ?? ui.iou.value;
  ui.scoreValue.value = Number(ui.score.value).toFixed(2);
  ui.iouValue.value = Number(ui.iou.value).toFixed(2);

  const [models, sampleList, kept] = await Promise.all([
    fetch('./models.json')
      .then(async (response) => (await response.json()) as DemoModel[])
      .catch(() => []),
    fetch('./samples/index.json')
      .then(async (response) => (response.ok ? ((await response.json()) as string[]) : []))
      .catch(() => []),
    takeKeptPhoto(),
  ]);
  for (const m of models) ui.model.add(new Option(m.label, m.file));
  const wanted = params.get('model');
  if (wanted && models.some((m) => m.file === wanted)) ui.model.value = wanted;
  samples = sampleList;
  ui.sample.hidden = samples.length < 2;

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
    showInfo(
      `Reloading with ${ui.threads.value || 'the default'} threads (onnxruntime-web reads them once per page)` +
        `${still ? `; ${still.name} is kept` : ''}…`,
    );
    void keepPhoto()
      .catch(() => undefined)
      .finally(() => {
        location.reload();
      });
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
      void redetect(); // per-call thresholds: the same detector, no reload of the model
    });
    input.addEventListener('change', () => {
      setParam(name, input.value);
    });
  }
  ui.imageFile.addEventListener('change', () => {
    const file = ui.imageFile.files?.[0];
    ui.imageFile.value = ''; // the same file can be picked again
    if (file) void showImage(file, file.name);
  });
  ui.sample.addEventListener('click', () => {
    void showSample();
  });
  ui.start.addEventListener('click', () => {
    void startCamera();
  });
  ui.stop.addEventListener('click', stopCamera);
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    void takeTransfer(event.dataTransfer, 'dropped');
  });
  document.addEventListener('paste', (event) => {
    event.preventDefault();
    void takeTransfer(event.clipboardData, 'pasted');
  });

  // The photo first (decoding overlaps the model's loading), then the detector, which detects it.
  const photo = kept ? showImage(kept.blob, kept.name) : showSample();
  await Promise.all([photo, applySettings()]);
}

const started = init();
window.ultrafaceDemo = {
  state,
  lib: { createFaceDetector },
  settled: async () => {
    await started;
    await applying;
    await stillRun;
  },
  benchmark,
};
