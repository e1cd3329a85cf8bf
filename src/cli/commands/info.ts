import { INPUT_SIZES, inputSizeFromDims, type InputSize, type NetVersion } from '../../core/presets.js';
import { priorCount } from '../../core/priors.js';
import { complexity } from '../../model/complexity.js';
import type { ModelGraph } from '../../model/graph.js';
import { readWeightsFile, sniffWeightsFormat } from '../../model/import/weights-file.js';
import { createModel } from '../../model/model.js';
import { buildNetwork } from '../../model/network.js';
import { decodeOnnx, inspectOnnx, type OnnxModelInfo } from '../../model/onnx/reader.js';
import { QUANTIZATION_METADATA_KEY } from '../../quantize/quantize.js';
import { readModelFile } from '../../runtime/node/model-file.js';
import type { CliIo } from '../io.js';
import { resolveModelOption } from './convert.js';

export interface ModelReport {
  readonly file: string;
  readonly format: string;
  readonly net: string;
  readonly numClasses: number;
  readonly inputSize: { width: number; height: number } | null;
  readonly trainedSize: { width: number; height: number } | null;
  readonly boxes: 'decoded' | 'raw' | null;
  readonly priors: number | null;
  readonly params: number;
  /** Per image at `flopsSize`: the model's input size, or 320x240 for weights without a fixed size. */
  readonly flops: number;
  readonly convMacs: number;
  readonly flopsSize: { width: number; height: number };
  readonly bytes: number;
}

/**
 * The network a file holds: from its weights (.pth, fp32 ONNX), or for int8 models, whose weights are quantized,
 * from the ultraface metadata the quantizer keeps.
 */
function readModelDescription(
  bytes: Uint8Array,
  file: string,
): { format: string; graph: ModelGraph; version: NetVersion; onnx: OnnxModelInfo | undefined } {
  if (sniffWeightsFormat(bytes) === 'onnx') {
    const proto = decodeOnnx(bytes, file);
    const info = inspectOnnx(proto);
    if (info.metadata && proto.metadataProps.some((p) => p.key === QUANTIZATION_METADATA_KEY)) {
      const graph = buildNetwork(info.metadata.net, info.metadata.numClasses);
      return { format: 'onnx-int8', graph, version: info.metadata.net, onnx: info };
    }
  }
  const imported = readWeightsFile(bytes, file);
  const model = createModel(imported.weights);
  return { format: imported.format, graph: model.graph, version: model.version, onnx: imported.onnx };
}

/** Reads a model or weights file and describes it (params and FLOPs as SPEC §9.2 counts them). */
export async function describeModel(file: string): Promise<ModelReport> {
  const bytes = await readModelFile(file);
  const { format, graph, version, onnx } = readModelDescription(bytes, file);
  const [, , height, width] = onnx?.inputDims ?? [];
  const size: InputSize | undefined =
    typeof width === 'number' && typeof height === 'number' ? inputSizeFromDims(width, height) : undefined;
  const flopsSize = size ?? INPUT_SIZES[320];
  const cost = complexity(graph, flopsSize.width, flopsSize.height);
  return {
    file,
    format,
    net: version,
    numClasses: graph.numClasses,
    inputSize: size ? { width: size.width, height: size.height } : null,
    trainedSize: onnx?.metadata?.trainedSize ?? null,
    boxes: onnx?.boxes ?? null,
    priors: size ? priorCount(size) : null,
    params: cost.params,
    flops: cost.flops,
    convMacs: cost.convMacs,
    flopsSize: { width: flopsSize.width, height: flopsSize.height },
    bytes: bytes.length,
  };
}

const millions = (n: number): string => `${(n / 1e6).toFixed(1)} M`;

/** `ultraface info`: a model file, a bundled model's name, or upstream's by name (its cached ONNX detector). */
export async function runInfo(file: string, options: { json?: boolean }, io: CliIo): Promise<number> {
  const r = await describeModel(await resolveModelOption(file, io));
  if (options.json) {
    io.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const dims = (s: { width: number; height: number } | null): string =>
    s ? `${s.width}x${s.height}` : 'any';
  const lines = [
    ['file', `${r.file} (${r.format}, ${(r.bytes / 1024).toFixed(0)} KiB)`],
    ['net', `${r.net}, ${r.numClasses} classes`],
    ['input', `${dims(r.inputSize)}${r.trainedSize ? ` (trained at ${dims(r.trainedSize)})` : ''}`],
    [
      'boxes',
      r.boxes === null ? 'weights only' : r.boxes === 'decoded' ? 'decoded in the graph' : 'raw regression',
    ],
    ['priors', r.priors === null ? '-' : r.priors.toLocaleString('en-US')],
    ['params', r.params.toLocaleString('en-US')],
    ['FLOPs', `${millions(r.flops)} at ${dims(r.flopsSize)} (conv MACs ${millions(r.convMacs)})`],
  ];
  for (const [key, value] of lines) io.stdout.write(`${`${key}:`.padEnd(8)} ${value}\n`);
  return 0;
}
