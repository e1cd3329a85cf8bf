import { MIN_BOXES, type NetVersion } from '../core/presets.js';
import { nodeParams, type GraphNode, type ModelGraph, type ParamSpec } from './graph.js';

/**
 * The slim and RFB detectors of upstream `vision/ssd/mb_tiny_fd.py` / `mb_tiny_RFB_fd.py` (SPEC §2), as a graph.
 * Node names are module paths, so `nodeParams` yields exactly the upstream state-dict keys.
 */

const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1; // PyTorch default, conv_bn / conv_dw
const RFB_BN_MOMENTUM = 0.01; // BasicConv inside BasicRFB (SPEC §2.1)

class GraphBuilder {
  readonly nodes: GraphNode[] = [];

  conv(
    name: string,
    input: string,
    inChannels: number,
    outChannels: number,
    o: {
      kernel: number;
      stride?: number;
      padding?: number;
      dilation?: number;
      groups?: number;
      bias: boolean;
    },
  ): string {
    this.nodes.push({
      op: 'conv',
      name,
      input,
      output: name,
      inChannels,
      outChannels,
      kernel: o.kernel,
      stride: o.stride ?? 1,
      padding: o.padding ?? 0,
      dilation: o.dilation ?? 1,
      groups: o.groups ?? 1,
      bias: o.bias,
    });
    return name;
  }

  batchNorm(name: string, input: string, channels: number, momentum = BN_MOMENTUM): string {
    this.nodes.push({ op: 'batchnorm', name, input, output: name, channels, eps: BN_EPS, momentum });
    return name;
  }

  relu(name: string, input: string): string {
    this.nodes.push({ op: 'relu', name, input, output: name });
    return name;
  }

  add(name: string, a: string, b: string): string {
    this.nodes.push({ op: 'add', name, inputs: [a, b], output: name });
    return name;
  }

  concat(name: string, inputs: string[], axis: number): string {
    this.nodes.push({ op: 'concat', name, inputs, output: name, axis });
    return name;
  }

  headFlatten(name: string, input: string, valuesPerPrior: number): string {
    this.nodes.push({ op: 'head_flatten', name, input, output: name, valuesPerPrior });
    return name;
  }

  /** conv_bn: 3x3 conv (no bias) → BN → ReLU (SPEC §2.1). */
  convBn(name: string, x: string, inC: number, outC: number, stride: number): string {
    x = this.conv(`${name}.0`, x, inC, outC, { kernel: 3, stride, padding: 1, bias: false });
    x = this.batchNorm(`${name}.1`, x, outC);
    return this.relu(`${name}.2`, x);
  }

  /** conv_dw: depthwise 3x3 → BN → ReLU → pointwise 1x1 → BN → ReLU, no biases (SPEC §2.1). */
  convDw(name: string, x: string, inC: number, outC: number, stride: number): string {
    x = this.conv(`${name}.0`, x, inC, inC, { kernel: 3, stride, padding: 1, groups: inC, bias: false });
    x = this.batchNorm(`${name}.1`, x, inC);
    x = this.relu(`${name}.2`, x);
    x = this.conv(`${name}.3`, x, inC, outC, { kernel: 1, bias: false });
    x = this.batchNorm(`${name}.4`, x, outC);
    return this.relu(`${name}.5`, x);
  }

  /** SeperableConv2d (sic): depthwise k×k with bias → ReLU → pointwise 1x1 with bias, no activation. */
  separableConv(name: string, x: string, inC: number, outC: number, stride: number): string {
    x = this.conv(`${name}.0`, x, inC, inC, { kernel: 3, stride, padding: 1, groups: inC, bias: true });
    x = this.relu(`${name}.1`, x);
    return this.conv(`${name}.2`, x, inC, outC, { kernel: 1, bias: true });
  }

  /** BasicConv of mb_tiny_RFB: conv (no bias) → BN (momentum 0.01) → optional ReLU. */
  basicConv(
    name: string,
    x: string,
    inC: number,
    outC: number,
    o: { kernel: number; padding?: number; dilation?: number; relu: boolean },
  ): string {
    x = this.conv(`${name}.conv`, x, inC, outC, { ...o, bias: false });
    x = this.batchNorm(`${name}.bn`, x, outC, RFB_BN_MOMENTUM);
    return o.relu ? this.relu(`${name}.relu`, x) : x;
  }

  /** BasicRFB(64, 64, stride 1, scale 1.0, map_reduce 8) (SPEC §2.3). The ×1.0 scale is omitted: no effect. */
  basicRfb(name: string, x: string, channels: number): string {
    const inter = channels / 8;
    const b0 = [this.basicConv(`${name}.branch0.0`, x, channels, inter, { kernel: 1, relu: false })];
    b0.push(
      this.basicConv(`${name}.branch0.1`, b0[0], inter, 2 * inter, { kernel: 3, padding: 1, relu: true }),
    );
    const branch0 = this.basicConv(`${name}.branch0.2`, b0[1], 2 * inter, 2 * inter, {
      kernel: 3,
      padding: 2,
      dilation: 2,
      relu: false,
    });

    let b1 = this.basicConv(`${name}.branch1.0`, x, channels, inter, { kernel: 1, relu: false });
    b1 = this.basicConv(`${name}.branch1.1`, b1, inter, 2 * inter, { kernel: 3, padding: 1, relu: true });
    const branch1 = this.basicConv(`${name}.branch1.2`, b1, 2 * inter, 2 * inter, {
      kernel: 3,
      padding: 3,
      dilation: 3,
      relu: false,
    });

    let b2 = this.basicConv(`${name}.branch2.0`, x, channels, inter, { kernel: 1, relu: false });
    b2 = this.basicConv(`${name}.branch2.1`, b2, inter, (inter / 2) * 3, {
      kernel: 3,
      padding: 1,
      relu: true,
    });
    b2 = this.basicConv(`${name}.branch2.2`, b2, (inter / 2) * 3, 2 * inter, {
      kernel: 3,
      padding: 1,
      relu: true,
    });
    const branch2 = this.basicConv(`${name}.branch2.3`, b2, 2 * inter, 2 * inter, {
      kernel: 3,
      padding: 5,
      dilation: 5,
      relu: false,
    });

    const cat = this.concat(`${name}.cat`, [branch0, branch1, branch2], 1);
    const linear = this.basicConv(`${name}.ConvLinear`, cat, 6 * inter, channels, { kernel: 1, relu: false });
    const shortcut = this.basicConv(`${name}.shortcut`, x, channels, channels, { kernel: 1, relu: false });
    return this.relu(`${name}.relu`, this.add(`${name}.add`, linear, shortcut));
  }
}

/** Backbone channel plan (SPEC §2.2): [in, out, stride] of base_net.1 … base_net.12 (base_net.0 is conv_bn 3→16). */
const BACKBONE: readonly (readonly [number, number, number])[] = [
  [16, 32, 1],
  [32, 32, 2],
  [32, 32, 1],
  [32, 64, 2],
  [64, 64, 1],
  [64, 64, 1],
  [64, 64, 1], // base_net.7: conv_dw in slim, BasicRFB in RFB
  [64, 128, 2],
  [128, 128, 1],
  [128, 128, 1],
  [128, 256, 2],
  [256, 256, 1],
];

/** Backbone modules whose output feeds a detection level (after base_net.7, .10, .12; then extras.0). */
const TAPS = new Set([7, 10, 12]);

/** Orders parameters like PyTorch's module registration: base_net, extras, classification, regression heads. */
function stateDictOrder(nodes: readonly GraphNode[]): ParamSpec[] {
  const rank = (name: string): number =>
    ['base_net.', 'extras.', 'classification_headers.', 'regression_headers.'].findIndex((p) =>
      name.startsWith(p),
    );
  const params = nodes.flatMap(nodeParams);
  return params
    .map((param, index) => ({ param, index }))
    .sort((a, b) => rank(a.param.name) - rank(b.param.name) || a.index - b.index)
    .map(({ param }) => param);
}

/**
 * Builds the detector graph. Input `input` [N, 3, H, W]; outputs `confidences` [N, P, numClasses] (logits) and
 * `locations` [N, P, 4] (raw regression). Valid for any input size; priors must use the same size.
 */
export function buildNetwork(version: NetVersion, numClasses = 2): ModelGraph {
  const g = new GraphBuilder();
  const input = 'input';
  let x = g.convBn('base_net.0', input, 3, 16, 2);
  const features: { tensor: string; channels: number }[] = [];
  BACKBONE.forEach(([inC, outC, stride], i) => {
    const index = i + 1;
    x =
      index === 7 && version === 'RFB'
        ? g.basicRfb(`base_net.${index}`, x, inC)
        : g.convDw(`base_net.${index}`, x, inC, outC, stride);
    if (TAPS.has(index)) features.push({ tensor: x, channels: outC });
  });

  // extras.0: 1x1 conv 256→64 (bias) → ReLU → SeperableConv2d(64→256, s2) → ReLU (SPEC §2.2)
  x = g.conv('extras.0.0', x, 256, 64, { kernel: 1, bias: true });
  x = g.relu('extras.0.1', x);
  x = g.separableConv('extras.0.2', x, 64, 256, 2);
  x = g.relu('extras.0.3', x);
  features.push({ tensor: x, channels: 256 });

  // Heads (SPEC §2.4): separable convs on levels 0–2, a plain 3x3 conv on level 3; interleaved per level as in
  // upstream's forward, while the parameter table keeps state-dict order.
  const confidences: string[] = [];
  const locations: string[] = [];
  features.forEach(({ tensor, channels }, level) => {
    const anchors = MIN_BOXES[level].length;
    const head = (kind: 'classification' | 'regression', values: number): string => {
      const name = `${kind}_headers.${level}`;
      const out =
        level < 3
          ? g.separableConv(name, tensor, channels, anchors * values, 1)
          : g.conv(name, tensor, channels, anchors * values, { kernel: 3, padding: 1, bias: true });
      return g.headFlatten(`${name}.flatten`, out, values);
    };
    confidences.push(head('classification', numClasses));
    locations.push(head('regression', 4));
  });
  g.concat('confidences', confidences, 1);
  g.concat('locations', locations, 1);

  return Object.freeze({
    input,
    nodes: Object.freeze(g.nodes),
    outputs: Object.freeze({ confidences: 'confidences', locations: 'locations' }),
    params: Object.freeze(stateDictOrder(g.nodes)),
    numClasses,
  });
}
