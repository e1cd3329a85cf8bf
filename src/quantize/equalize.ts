/**
 * Activation equalization: per-channel rescaling between a convolution and the convolutions that read its output,
 * so that one uint8 range per tensor suits every channel (cross-layer equalization, Nagel et al. 2019,
 * "Data-Free Quantization Through Weight Equalization and Bias Correction", §4.1 — here driven by the calibration
 * images' per-channel activation ranges rather than by weight ranges).
 *
 * Channel c of a tensor T = [ReLU](P(x)) is multiplied by s_c > 0 (P's weights and bias of output channel c times
 * s_c; ReLU commutes with a positive scale) and every consumer's weights reading channel c are divided by s_c, so
 * the network computes the same function. BN-folded depthwise/pointwise stacks have channels whose ranges differ
 * by 100x, which a single per-tensor range crushes.
 *
 * - Consumers all depthwise: their per-channel weight scales absorb 1/s_c at no cost, so ranges are equalized
 *   fully: s_c = R / r_c (r_c: channel c's range, R: the largest).
 * - Otherwise (a pointwise or full conv reads T): 1/s_c shrinks input column c of the consumer's weights, whose
 *   int8 scale is per output channel. s_c = √(w_c / r_c) balances both, w_c being the largest |weight| of column c
 *   relative to its output channel's largest (CLE's geometric mean).
 */
import type { OnnxModel } from '../model/onnx/reader.js';
import { readInitializers } from '../model/onnx/reader.js';
import { TensorDataType, toNumber, type OnnxTypes } from '../model/onnx/proto.js';
import type { QuantizationPlan } from './qdq.js';
import type { TensorStats } from './ranges.js';

/** Scales are kept within [1 / MAX_SCALE, MAX_SCALE]: dead channels (r_c ≈ 0) are not blown up. */
const MAX_SCALE = 256;

interface ConvInfo {
  readonly node: OnnxTypes.INodeProto;
  readonly weight: string;
  readonly bias: string;
  readonly group: number;
}

function convInfo(node: OnnxTypes.INodeProto): ConvInfo {
  const group = node.attribute?.find((a) => a.name === 'group');
  const [, weight, bias] = node.input ?? [];
  return { node, weight, bias, group: group ? toNumber(group.i) : 1 };
}

/**
 * Equalizes every planned activation that one conv (optionally through a ReLU) produces and only convs read.
 * Modifies `model`'s float initializers and the statistics' ranges (overall min/max recomputed from the scaled
 * per-channel ones; histograms must be gathered afterwards).
 *
 * @returns the equalized tensors
 */
export function equalizeActivations(
  model: OnnxModel,
  plan: QuantizationPlan,
  stats: Map<string, TensorStats>,
): string[] {
  const graph = model.graph as OnnxTypes.GraphProto;
  const floats = readInitializers(model);
  const producers = new Map<string, OnnxTypes.INodeProto>();
  const consumers = new Map<string, OnnxTypes.INodeProto[]>();
  for (const node of graph.node) {
    for (const out of node.output ?? []) producers.set(out, node);
    for (const name of node.input ?? []) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  }
  const outputs = new Set(graph.output.map((o) => o.name));
  const changed = new Set<string>();
  const done: string[] = [];

  for (const tensor of plan.activations) {
    const stat = stats.get(tensor);
    if (!stat?.channelMin || !stat.channelMax || outputs.has(tensor)) continue;
    // Producer: Conv, or Relu over a Conv output that only the Relu reads.
    let producer = producers.get(tensor);
    if (producer?.opType === 'Relu') {
      const x = producer.input?.[0] ?? '';
      producer = (consumers.get(x) ?? []).length === 1 ? producers.get(x) : undefined;
    }
    const users = consumers.get(tensor) ?? [];
    if (producer?.opType !== 'Conv' || users.length === 0) continue;
    if (!users.every((u) => u.opType === 'Conv' && u.input?.[0] === tensor)) continue;
    const p = convInfo(producer);
    const channels = stat.channelMax.length;
    const readers = users.map(convInfo);
    const depthwise = readers.map((r) => r.group === channels && floats.get(r.weight)!.shape[1] === 1);
    if (readers.some((r, i) => !depthwise[i] && r.group !== 1)) continue;
    if (!floats.has(p.bias)) continue; // a conv without a bias (not in ultraface exports)

    const ranges = Array.from(stat.channelMax, (hi, c) =>
      Math.max(Math.abs(hi), Math.abs(stat.channelMin![c])),
    );
    const columns = new Float64Array(channels); // w_c, 0 when only depthwise convs read T
    readers.forEach((r, i) => {
      if (depthwise[i]) return;
      const w = floats.get(r.weight)!;
      const [outs, ins] = w.shape;
      const k = w.data.length / (outs * ins);
      const data = w.data as Float32Array;
      for (let o = 0; o < outs; o++) {
        let rowMax = 0;
        for (let i2 = o * ins * k; i2 < (o + 1) * ins * k; i2++)
          rowMax = Math.max(rowMax, Math.abs(data[i2]));
        if (rowMax === 0) continue;
        for (let c = 0; c < ins; c++) {
          for (let j = 0; j < k; j++) {
            columns[c] = Math.max(columns[c], Math.abs(data[(o * ins + c) * k + j]) / rowMax);
          }
        }
      }
    });
    const general = depthwise.some((d) => !d);
    const target = Math.max(...ranges);
    const raw = ranges.map((r, c) => {
      if (!(r > 0) || (general && !(columns[c] > 0))) return NaN;
      return general ? Math.sqrt(columns[c] / r) : 1 / r;
    });
    // Normalise so the largest scaled range stays R (the tensor's overall range keeps its size).
    const norm = target / Math.max(...raw.map((s, c) => (Number.isNaN(s) ? 0 : s * ranges[c])));
    const scales = raw.map((s) =>
      Number.isNaN(s) || !Number.isFinite(norm) ? 1 : Math.min(MAX_SCALE, Math.max(1 / MAX_SCALE, s * norm)),
    );

    scaleRows(floats.get(p.weight)!.data as Float32Array, scales, 1);
    scaleRows(floats.get(p.bias)!.data as Float32Array, scales, 1);
    readers.forEach((r, i) => {
      const w = floats.get(r.weight)!;
      const data = w.data as Float32Array;
      if (depthwise[i]) scaleRows(data, scales, -1);
      else scaleColumns(data, w.shape, scales);
      changed.add(r.weight);
    });
    changed.add(p.weight).add(p.bias);
    stat.channelMin = stat.channelMin.map((v, c) => v * scales[c]);
    stat.channelMax = stat.channelMax.map((v, c) => v * scales[c]);
    stat.channelSum = stat.channelSum?.map((v, c) => v * scales[c]);
    stat.min = Math.min(...stat.channelMin);
    stat.max = Math.max(...stat.channelMax);
    done.push(tensor);
  }

  for (const t of graph.initializer) {
    const name = t.name ?? '';
    if (!changed.has(name)) continue;
    const data = floats.get(name)!.data as Float32Array;
    t.dataType = TensorDataType.FLOAT;
    t.floatData = [];
    t.rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return done;
}

/** Multiplies (sign 1) or divides (−1) each row (leading index) of `data` by `scales[row]`. */
function scaleRows(data: Float32Array, scales: readonly number[], sign: 1 | -1): void {
  const per = data.length / scales.length;
  for (let i = 0; i < data.length; i++) {
    const s = scales[Math.floor(i / per)];
    data[i] = sign === 1 ? data[i] * s : data[i] / s;
  }
}

/** Divides input column c of conv weights [O, C, ...] by `scales[c]`. */
function scaleColumns(data: Float32Array, shape: readonly number[], scales: readonly number[]): void {
  const [outs, ins] = shape;
  const k = data.length / (outs * ins);
  for (let i = 0; i < data.length; i++) data[i] /= scales[Math.floor(i / k) % ins];
}
