import { UltrafaceError } from '../../core/errors.js';
import type { OnnxModelInfo } from '../onnx/info.js';
import { decodeOnnx, inspectOnnx, isQuantizedOnnx, readInitializers } from '../onnx/reader.js';
import type { Weights } from '../weights.js';
import { readPth } from './pth.js';

export type WeightsFormat = 'pth-zip' | 'pth-legacy' | 'onnx';

export interface ImportedWeights {
  readonly format: WeightsFormat;
  readonly weights: Weights;
  /** For ONNX sources: what the graph says about itself (input size, post-processing). */
  readonly onnx?: OnnxModelInfo;
}

/** Initializers that are state-dict entries; graph constants (priors, reshape shapes) are not. */
const STATE_DICT_SUFFIX = /\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;

/** Sniffs the format: zip (torch ≥ 1.6 `.pth`), pickle protocol 2 (legacy `.pth`), else ONNX protobuf. */
export function sniffWeightsFormat(bytes: Uint8Array): WeightsFormat {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'pth-zip';
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'pth-legacy';
  return 'onnx';
}

/**
 * Reads upstream (or compatible) weights from `.pth` bytes or from the initializers of an ONNX model whose
 * initializer names are state-dict keys (SPEC §2.8.1), including ultraface's own BN-folded exports
 * (`createModel` unfolds them). Upstream "simplified" graphs, whose tensors lost their names, are refused.
 */
export function readWeightsFile(bytes: Uint8Array, source = 'weights file'): ImportedWeights {
  if (bytes.length === 0)
    throw new UltrafaceError('E_WEIGHTS_FORMAT', `Expected weights in ${source} but it is empty`);
  const format = sniffWeightsFormat(bytes);
  if (format !== 'onnx') return { format, weights: readPth(bytes) };

  const model = decodeOnnx(bytes, source);
  if (isQuantizedOnnx(model)) {
    throw new UltrafaceError(
      'E_WEIGHTS_FORMAT',
      `${source} is an int8 (quantized) model: its weights are int8, fixed to the input size it was quantized ` +
        `at, and cannot be read back as the network's fp32 weights (to export, convert, re-size or quantize). ` +
        `Use the fp32 model it was made from (rfb-320 for the bundled rfb-320-int8); the int8 model itself runs ` +
        `as it is (detect, eval with the ulfd protocol) and \`ultraface info\` describes it.`,
    );
  }
  const outputs = (model.graph?.output ?? []).map((o) => o.name ?? '');
  if (!outputs.includes('scores') || !outputs.includes('boxes')) {
    throw new UltrafaceError(
      'E_WEIGHTS_FORMAT',
      `${source} is not an Ultra-Light SSD face detector (slim or RFB): its outputs are ` +
        `${outputs.join(', ') || 'none'}, not scores and boxes. ultraface reads only these networks: its own ` +
        `models, and upstream's .pth and ONNX files.`,
    );
  }
  const weights = new Map([...readInitializers(model)].filter(([name]) => STATE_DICT_SUFFIX.test(name)));
  if (!weights.has('base_net.0.1.running_var') && !weights.has('base_net.0.0.bias')) {
    throw new UltrafaceError(
      'E_WEIGHTS_FORMAT',
      `${source} has no state-dict-named tensors (base_net.0.1.running_var or base_net.0.0.bias): its ` +
        `initializers were renamed (e.g. an upstream "_simplified" graph), so its weights cannot be mapped to ` +
        `the network. Import the .pth file or the non-simplified ONNX file instead.`,
    );
  }
  return { format, weights, onnx: inspectOnnx(model) };
}
