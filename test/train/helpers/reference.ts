import type { GraphNode } from '../../../src/model/graph.js';
import { convOutputSize } from '../../../src/model/shapes.js';

/**
 * A float64 reference for the training graph, written as direct loops (test-only): the forward pass of graph
 * nodes with training-mode BatchNorm, and the MultiBox loss with hard-negative mining (SPEC §5.4–§5.5).
 * Gradients are then taken from it by central finite differences.
 */

export type Shapes = Map<string, readonly number[]>;

/** Per-sample shapes of every tensor, from the source tensors' shapes. */
export function shapesOf(
  nodes: readonly GraphNode[],
  sources: ReadonlyMap<string, readonly number[]>,
): Shapes {
  const shapes: Shapes = new Map(sources);
  const get = (t: string): readonly number[] => shapes.get(t)!;
  for (const n of nodes) {
    switch (n.op) {
      case 'conv': {
        const [, h, w] = get(n.input);
        const out = (s: number): number => convOutputSize(s, n.kernel, n.stride, n.padding, n.dilation);
        shapes.set(n.output, [n.outChannels, out(h), out(w)]);
        break;
      }
      case 'batchnorm':
      case 'relu':
        shapes.set(n.output, get(n.input));
        break;
      case 'add':
        shapes.set(n.output, get(n.inputs[0]));
        break;
      case 'concat': {
        const parts = n.inputs.map(get);
        const merged = [...parts[0]];
        merged[n.axis - 1] = parts.reduce((s, p) => s + p[n.axis - 1], 0);
        shapes.set(n.output, merged);
        break;
      }
      case 'head_flatten': {
        const [c, h, w] = get(n.input);
        shapes.set(n.output, [(c * h * w) / n.valuesPerPrior, n.valuesPerPrior]);
        break;
      }
    }
  }
  return shapes;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export interface BatchStats64 {
  readonly mean: Float64Array;
  readonly unbiasedVariance: Float64Array;
}

/** Forward pass in float64; returns every tensor's value and each BatchNorm's batch statistics. */
export function forward64(
  nodes: readonly GraphNode[],
  shapes: Shapes,
  n: number,
  sources: ReadonlyMap<string, Float64Array>,
  params: ReadonlyMap<string, Float64Array>,
): { values: Map<string, Float64Array>; stats: Map<string, BatchStats64> } {
  const values = new Map(sources);
  const stats = new Map<string, BatchStats64>();
  const p = (name: string): Float64Array => params.get(name)!;
  for (const node of nodes) {
    switch (node.op) {
      case 'conv': {
        const x = values.get(node.input)!;
        const [C, H, W] = shapes.get(node.input)!;
        const [M, Ho, Wo] = shapes.get(node.output)!;
        const { kernel: k, stride: s, padding: pad, dilation: d, groups: g } = node;
        const w = p(`${node.name}.weight`);
        const bias = node.bias ? p(`${node.name}.bias`) : undefined;
        const cg = C / g;
        const mg = M / g;
        const y = new Float64Array(n * M * Ho * Wo);
        for (let b = 0; b < n; b++) {
          for (let m = 0; m < M; m++) {
            const group = Math.floor(m / mg);
            for (let i = 0; i < Ho; i++) {
              for (let j = 0; j < Wo; j++) {
                let acc = bias ? bias[m] : 0;
                for (let cc = 0; cc < cg; cc++) {
                  const c = group * cg + cc;
                  for (let kh = 0; kh < k; kh++) {
                    const hi = i * s + kh * d - pad;
                    if (hi < 0 || hi >= H) continue;
                    for (let kw = 0; kw < k; kw++) {
                      const wi = j * s + kw * d - pad;
                      if (wi < 0 || wi >= W) continue;
                      acc += w[((m * cg + cc) * k + kh) * k + kw] * x[((b * C + c) * H + hi) * W + wi];
                    }
                  }
                }
                y[((b * M + m) * Ho + i) * Wo + j] = acc;
              }
            }
          }
        }
        values.set(node.output, y);
        break;
      }
      case 'batchnorm': {
        const x = values.get(node.input)!;
        const [C, H, W] = shapes.get(node.input)!;
        const hw = H * W;
        const count = n * hw;
        const gamma = p(`${node.name}.weight`);
        const beta = p(`${node.name}.bias`);
        const y = new Float64Array(x.length);
        const mean = new Float64Array(C);
        const unbiasedVariance = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let b = 0; b < n; b++) for (let q = 0; q < hw; q++) sum += x[(b * C + c) * hw + q];
          const mu = sum / count;
          let sq = 0;
          for (let b = 0; b < n; b++) for (let q = 0; q < hw; q++) sq += (x[(b * C + c) * hw + q] - mu) ** 2;
          const variance = sq / count;
          mean[c] = mu;
          unbiasedVariance[c] = count > 1 ? sq / (count - 1) : variance;
          const rstd = 1 / Math.sqrt(variance + node.eps);
          for (let b = 0; b < n; b++) {
            for (let q = 0; q < hw; q++) {
              const i = (b * C + c) * hw + q;
              y[i] = (x[i] - mu) * rstd * gamma[c] + beta[c];
            }
          }
        }
        stats.set(node.name, { mean, unbiasedVariance });
        values.set(node.output, y);
        break;
      }
      case 'relu':
        values.set(
          node.output,
          values.get(node.input)!.map((v) => (v > 0 ? v : 0)),
        );
        break;
      case 'add': {
        const a = values.get(node.inputs[0])!;
        const b = values.get(node.inputs[1])!;
        values.set(
          node.output,
          a.map((v, i) => v + b[i]),
        );
        break;
      }
      case 'concat': {
        // view each part as [N, extent·rest] along axis 1
        const parts = node.inputs.map((t) => values.get(t)!);
        const perSample = parts.map((v) => v.length / n);
        const total = perSample.reduce((a, b) => a + b, 0);
        const y = new Float64Array(n * total);
        for (let b = 0; b < n; b++) {
          let offset = 0;
          parts.forEach((v, j) => {
            y.set(v.subarray(b * perSample[j], (b + 1) * perSample[j]), b * total + offset);
            offset += perSample[j];
          });
        }
        values.set(node.output, y);
        break;
      }
      case 'head_flatten': {
        const x = values.get(node.input)!;
        const [c, h, w] = shapes.get(node.input)!;
        const y = new Float64Array(x.length);
        for (let b = 0; b < n; b++) {
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < h; i++) {
              for (let j = 0; j < w; j++)
                y[((b * h + i) * w + j) * c + ch] = x[((b * c + ch) * h + i) * w + j];
            }
          }
        }
        values.set(node.output, y);
        break;
      }
    }
  }
  return { values, stats };
}

export interface Loss64 {
  readonly regression: number;
  readonly classification: number;
  /** [N, P]: 1 for positives and mined negatives. */
  readonly mask: Uint8Array;
}

/**
 * SPEC §5.4–§5.5 in float64. Mining per image: background loss of non-positives, descending, ties by lower
 * prior index (the graph's documented rule); the first ratio·num_pos are mined. Both parts / max(num_pos, 1).
 */
export function multiboxLoss64(
  conf: Float64Array,
  loc: Float64Array,
  labels: ArrayLike<bigint>,
  gt: Float64Array,
  dims: { n: number; priors: number; classes: number; ratio?: number },
): Loss64 {
  const { n, priors: P, classes: C } = dims;
  const ratio = dims.ratio ?? 3;
  const logp = new Float64Array(n * P * C);
  for (let r = 0; r < n * P; r++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, conf[r * C + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(conf[r * C + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < C; c++) logp[r * C + c] = conf[r * C + c] - lse;
  }
  const mask = new Uint8Array(n * P);
  let numPos = 0;
  for (let b = 0; b < n; b++) {
    const order: number[] = [];
    let pos = 0;
    for (let p = 0; p < P; p++) {
      if (labels[b * P + p] > 0n) {
        pos++;
        mask[b * P + p] = 1;
      } else order.push(p);
    }
    numPos += pos;
    order.sort((u, v) => logp[(b * P + u) * C] - logp[(b * P + v) * C] || u - v); // bg loss descending
    for (const p of order.slice(0, ratio * pos)) mask[b * P + p] = 1;
  }
  let classification = 0;
  let regression = 0;
  for (let r = 0; r < n * P; r++) {
    const label = Number(labels[r]);
    if (mask[r]) classification -= logp[r * C + label];
    if (label > 0) {
      for (let k = 0; k < 4; k++) {
        const d = Math.abs(loc[r * 4 + k] - gt[r * 4 + k]);
        regression += d < 1 ? 0.5 * d * d : d - 0.5;
      }
    }
  }
  const scale = 1 / Math.max(numPos, 1);
  return { regression: regression * scale, classification: classification * scale, mask };
}

/** Central differences of f at every entry of `x` (modified in place and restored). */
export function finiteDifferences(x: Float64Array, f: () => number, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h;
    const up = f();
    x[i] = v - h;
    const down = f();
    x[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** A deterministic generator of float32-representable values in [lo, hi) (an LCG; tests only). */
export function random(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + ((hi - lo) * s) / 4294967296);
  };
}

export { size as elementCount };
