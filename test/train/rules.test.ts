import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ConvNode, GraphNode } from '../../src/model/graph.js';
import type { GradientVariants } from '../../src/train/autodiff/context.js';
import { checkRule, type RuleCase } from './helpers/rules.js';

/**
 * Per-op gradient rules vs central finite differences of a float64 reference (helpers/rules.ts). Measure:
 * relative L2 error per gradient tensor (every parameter and the input x), tolerance 1e-3; batch statistics
 * and the loss value 1e-5.
 */
const TOLERANCE = 1e-3;

type ConvSpec = Partial<Omit<ConvNode, 'op' | 'name' | 'input' | 'output'>> &
  Pick<ConvNode, 'inChannels' | 'outChannels'>;

function conv(name: string, input: string, spec: ConvSpec): ConvNode {
  return {
    op: 'conv',
    name,
    input,
    output: name,
    kernel: 3,
    stride: 1,
    padding: 1,
    dilation: 1,
    groups: 1,
    bias: false,
    ...spec,
  };
}

async function expectGradients(c: RuleCase & { lossTolerance?: number }): Promise<void> {
  const { errors, statErrors, lossError } = await checkRule(c);
  const report = [...errors, ...statErrors].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ');
  for (const [name, error] of errors) assert.ok(error <= TOLERANCE, `${name}: ${error} (${report})`);
  for (const [name, error] of statErrors) assert.ok(error <= 1e-5, `${name}: ${error} (${report})`);
  if (process.env.TRAIN_TEST_VERBOSE) console.log(`loss ${lossError.toExponential(2)}, ${report}`);
  assert.ok(lossError <= (c.lossTolerance ?? 1e-5), `loss: ${lossError}`);
}

/** A single conv on x [2, C, 8, 9] (odd sizes: strided convs need output_padding). */
function convCase(spec: ConvSpec, variants?: Partial<GradientVariants>, batch = 2): RuleCase {
  return {
    nodes: [conv('c', 'x', spec)],
    input: [spec.inChannels, 8, 9],
    batch,
    outputs: ['c'],
    ...(variants ? { variants } : {}),
  };
}

const CONVS: [string, ConvSpec][] = [
  ['plain 3x3 with bias', { inChannels: 3, outChannels: 4, bias: true }],
  ['plain 3x3 without bias', { inChannels: 3, outChannels: 4 }],
  ['strided 3x3 (s2, output_padding)', { inChannels: 3, outChannels: 5, stride: 2 }],
  ['strided 5x5 s3 p1 with bias', { inChannels: 2, outChannels: 3, kernel: 5, stride: 3, bias: true }],
  ['padded 3x3 p2', { inChannels: 2, outChannels: 3, padding: 2 }],
  ['unpadded 3x3 p0', { inChannels: 2, outChannels: 3, padding: 0 }],
  ['dilated 3x3 d2 p2', { inChannels: 3, outChannels: 4, dilation: 2, padding: 2 }],
  ['dilated 3x3 d3 p3', { inChannels: 3, outChannels: 2, dilation: 3, padding: 3 }],
  ['dilated 3x3 d5 p5 (RFB branch2.3)', { inChannels: 2, outChannels: 2, dilation: 5, padding: 5 }],
  ['dilated and strided 3x3 d2 s2 p1', { inChannels: 2, outChannels: 3, dilation: 2, stride: 2 }],
  ['pointwise 1x1', { inChannels: 4, outChannels: 6, kernel: 1, padding: 0 }],
  ['pointwise 1x1 with bias', { inChannels: 4, outChannels: 6, kernel: 1, padding: 0, bias: true }],
  ['strided 1x1 s2', { inChannels: 4, outChannels: 3, kernel: 1, padding: 0, stride: 2 }],
  ['grouped 3x3 g2 s2', { inChannels: 4, outChannels: 6, groups: 2, stride: 2 }],
  [
    'grouped 3x3 g2 d2 p2 with bias',
    { inChannels: 4, outChannels: 4, groups: 2, dilation: 2, padding: 2, bias: true },
  ],
  ['depthwise multiplier 2 (g = C, M = 2C)', { inChannels: 3, outChannels: 6, groups: 3 }],
];

const DEPTHWISE: [string, ConvSpec][] = [
  ['depthwise 3x3', { inChannels: 4, outChannels: 4, groups: 4 }],
  ['depthwise 3x3 with bias', { inChannels: 4, outChannels: 4, groups: 4, bias: true }],
  ['depthwise 3x3 s2 (output_padding)', { inChannels: 3, outChannels: 3, groups: 3, stride: 2 }],
  ['depthwise 3x3 d2 p2', { inChannels: 3, outChannels: 3, groups: 3, dilation: 2, padding: 2 }],
];

const DEPTHWISE_VARIANTS: Partial<GradientVariants>[] = [
  { depthwiseFilter: 'auto', convData: 'flipped-conv' },
  { depthwiseFilter: 'unfold-matmul', convData: 'flipped-conv' },
  { depthwiseFilter: 'shifted-products', convData: 'flipped-conv' },
  { depthwiseFilter: 'group-c', convData: 'conv-transpose' },
  { depthwiseFilter: 'group-nc', convData: 'flipped-conv' },
];

describe('gradient rules vs finite differences (float64 reference)', () => {
  describe('conv', () => {
    for (const [label, spec] of CONVS) {
      it(label, async () => {
        await expectGradients(convCase(spec));
      });
      const pointwise = spec.kernel === 1 && (spec.stride ?? 1) === 1;
      if ((spec.groups ?? 1) === 1 && !pointwise) {
        it(`${label}, transposed-conv / conv-transpose`, async () => {
          await expectGradients(
            convCase(spec, { convFilter: 'transposed-conv', convData: 'conv-transpose' }),
          );
        });
      }
    }
    for (const [label, spec] of DEPTHWISE) {
      for (const variants of DEPTHWISE_VARIANTS) {
        it(`${label}, ${variants.depthwiseFilter} / ${variants.convData}`, async () => {
          await expectGradients(convCase(spec, variants, 3));
        });
      }
    }
    it('depthwise 3x3, dynamic batch', async () => {
      await expectGradients({
        ...convCase({ inChannels: 3, outChannels: 3, groups: 3 }),
        dynamicBatch: true,
      });
    });
    it('unfold-matmul filter gradients, dynamic batch', async () => {
      await expectGradients({
        ...convCase(
          { inChannels: 3, outChannels: 3, groups: 3, stride: 2 },
          { depthwiseFilter: 'unfold-matmul' },
        ),
        dynamicBatch: true,
      });
      await expectGradients({
        ...convCase(
          { inChannels: 2, outChannels: 3, dilation: 2, padding: 2 },
          { convFilter: 'unfold-matmul' },
        ),
        dynamicBatch: true,
      });
    });
  });

  describe('batchnorm (training mode, batch statistics)', () => {
    const bn = (input: string): GraphNode => ({
      op: 'batchnorm',
      name: 'bn',
      input,
      output: 'bn',
      channels: 3,
      eps: 1e-5,
      momentum: 0.1,
    });
    for (const batchNorm of ['fused', 'basic'] as const) {
      it(`${batchNorm}: gradients of x, gamma, beta; batch mean and unbiased variance`, async () => {
        await expectGradients({
          nodes: [bn('x')],
          input: [3, 5, 6],
          batch: 2,
          outputs: ['bn'],
          variants: { batchNorm },
        });
      });
      it(`${batchNorm}: a near-constant channel (x = 5 + 1e-3·noise)`, async () => {
        await expectGradients({
          nodes: [bn('x')],
          input: [3, 5, 6],
          batch: 2,
          outputs: ['bn'],
          variants: { batchNorm },
          // float32 rounding of the inputs alone moves that channel's normalized values by ~1e-4
          lossTolerance: 1e-3,
          makeInput: (rand, length) =>
            Float64Array.from({ length }, (_, i) =>
              Math.floor(i / 30) % 3 === 1 ? Math.fround(5 + 1e-3 * rand()) : rand(),
            ),
        });
      });
      it(`${batchNorm}: after a conv, dynamic batch`, async () => {
        await expectGradients({
          nodes: [conv('c', 'x', { inChannels: 2, outChannels: 3, stride: 2 }), bn('c')],
          input: [2, 7, 8],
          batch: 3,
          outputs: ['bn'],
          variants: { batchNorm },
          dynamicBatch: true,
        });
      });
    }
  });

  describe('relu, add, concat, head_flatten', () => {
    for (const reluGradient of ['mask', 'sign', 'where'] as const) {
      it(`relu (${reluGradient})`, async () => {
        await expectGradients({
          nodes: [{ op: 'relu', name: 'r', input: 'x', output: 'r' }],
          input: [2, 4, 5],
          batch: 2,
          outputs: ['r'],
          variants: { reluGradient },
        });
      });
    }
    it('add, with x feeding both summands and itself reused (gradient accumulation)', async () => {
      await expectGradients({
        nodes: [
          conv('a', 'x', { inChannels: 3, outChannels: 4 }),
          conv('b', 'x', { inChannels: 3, outChannels: 4, kernel: 1, padding: 0 }),
          { op: 'add', name: 'sum', inputs: ['a', 'b'], output: 'sum' },
          { op: 'relu', name: 'r', input: 'sum', output: 'r' },
        ],
        input: [3, 5, 6],
        batch: 2,
        outputs: ['r', 'a'],
      });
    });
    it('concat of channels (RFB branches)', async () => {
      await expectGradients({
        nodes: [
          conv('a', 'x', { inChannels: 3, outChannels: 2 }),
          conv('b', 'x', { inChannels: 3, outChannels: 3, dilation: 2, padding: 2 }),
          { op: 'concat', name: 'cat', inputs: ['a', 'b', 'x'], output: 'cat', axis: 1 },
          conv('mix', 'cat', { inChannels: 8, outChannels: 2, kernel: 1, padding: 0 }),
        ],
        input: [3, 5, 6],
        batch: 2,
        outputs: ['mix'],
      });
    });
    it('head_flatten of two levels, then concat along priors', async () => {
      await expectGradients({
        nodes: [
          conv('h0', 'x', { inChannels: 3, outChannels: 6 }),
          { op: 'head_flatten', name: 'f0', input: 'h0', output: 'f0', valuesPerPrior: 2 },
          conv('h1', 'x', { inChannels: 3, outChannels: 4, stride: 2 }),
          { op: 'head_flatten', name: 'f1', input: 'h1', output: 'f1', valuesPerPrior: 2 },
          { op: 'concat', name: 'conf', inputs: ['f0', 'f1'], output: 'conf', axis: 1 },
        ],
        input: [3, 5, 7],
        batch: 2,
        outputs: ['conf'],
      });
    });
  });
});
