import * as ort from 'onnxruntime-node';

import { nodeParams, type GraphNode } from '../../../src/model/graph.js';
import { OnnxGraphBuilder } from '../../../src/model/onnx/builder.js';
import {
  DEFAULT_GRADIENT_VARIANTS,
  EmitContext,
  type GradientVariants,
} from '../../../src/train/autodiff/context.js';
import { GraphDifferentiator } from '../../../src/train/autodiff/differentiate.js';
import { elementCount, finiteDifferences, forward64, random, shapesOf } from './reference.js';
import { relativeL2 } from './fixture.js';

/**
 * Per-op gradient check: a small graph fed by one source tensor `x`, the loss L = Σ_t Σ R_t ⊙ t over the
 * chosen output tensors t (random R_t), differentiated by the training-graph rules and run by onnxruntime in
 * float32, against central finite differences (h = 1e-5) of the float64 reference. All values are
 * float32-representable, so both sides see the same inputs.
 */
export interface RuleCase {
  readonly nodes: readonly GraphNode[];
  /** Per-sample shape of `x`. */
  readonly input: readonly number[];
  readonly batch: number;
  readonly outputs: readonly string[];
  readonly variants?: Partial<GradientVariants>;
  /** Compile with a symbolic batch dimension. */
  readonly dynamicBatch?: boolean;
  /** Overrides of the random source values (e.g. a near-constant channel). */
  readonly makeInput?: (rand: (lo?: number, hi?: number) => number, length: number) => Float64Array;
  readonly seed?: number;
}

export interface RuleResult {
  /** Relative L2 error per gradient tensor (parameters by state-dict name, and `x`). */
  readonly errors: Map<string, number>;
  /** Relative L2 error of each BatchNorm's batch mean and unbiased variance. */
  readonly statErrors: Map<string, number>;
  readonly lossError: number;
}

export async function checkRule(c: RuleCase): Promise<RuleResult> {
  const rand = random(c.seed ?? 7);
  const n = c.batch;
  const shapes = shapesOf(c.nodes, new Map([['x', c.input]]));
  const params = new Map<string, Float64Array>();
  const paramShapes = new Map<string, readonly number[]>();
  for (const spec of c.nodes.flatMap(nodeParams)) {
    if (!spec.learnable) continue;
    const len = elementCount(spec.shape);
    const fanIn = spec.role === 'weight' ? elementCount(spec.shape.slice(1)) : 1;
    const [lo, hi] = spec.role === 'bn_weight' ? [0.5, 1.5] : [-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)];
    params.set(
      spec.name,
      Float64Array.from({ length: len }, () => rand(lo, hi)),
    );
    paramShapes.set(spec.name, spec.shape);
  }
  const xLength = n * elementCount(c.input);
  const x = c.makeInput ? c.makeInput(rand, xLength) : Float64Array.from({ length: xLength }, () => rand());
  const projections = new Map(
    c.outputs.map((t) => [t, Float64Array.from({ length: n * elementCount(shapes.get(t)!) }, () => rand())]),
  );

  // --- ONNX graph
  const b = new OnnxGraphBuilder();
  const batch = c.dynamicBatch ? 'dynamic' : n;
  const ctx = new EmitContext(b, batch, { ...DEFAULT_GRADIENT_VARIANTS, ...c.variants }, 'x');
  b.input('x', ctx.full(c.input));
  for (const [name, shape] of paramShapes) b.input(name, shape);
  const diff = new GraphDifferentiator(ctx, { nodes: c.nodes, shapes }, (name) => name);
  diff.forward(new Map([['x', 'x']]), 'train');
  const seeds = new Map<string, string>();
  const terms: string[] = [];
  for (const t of c.outputs) {
    const r = b.input(`R:${t}`, ctx.full(shapes.get(t)!));
    seeds.set(t, r);
    terms.push(b.node('ReduceSum', [b.node('Mul', [diff.value(t), r])], undefined, { keepdims: 0 }));
  }
  b.node(terms.length === 1 ? 'Identity' : 'Sum', terms, 'loss');
  b.output('loss', []);
  const grads = diff.backward(seeds, ['x']);
  const outNames: string[] = [];
  const emit = (name: string, value: string, shape: readonly (number | string)[]): void => {
    b.node('Identity', [value], name);
    b.output(name, shape);
    outNames.push(name);
  };
  for (const [name, shape] of paramShapes) emit(`grad:${name}`, grads.params.get(name)!, shape);
  emit('grad:x', grads.inputs.get('x')!, ctx.full(c.input));
  for (const s of diff.batchStatistics()) {
    emit(`mean:${s.node.name}`, s.mean, [s.node.channels]);
    emit(`var:${s.node.name}`, s.variance, [s.node.channels]);
  }
  const session = await ort.InferenceSession.create(b.build({ name: 'rule-test', opset: 17 }), {
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
  });
  const f32 = (v: Float64Array): Float32Array => Float32Array.from(v);
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', f32(x), [n, ...c.input]) };
  for (const [name, shape] of paramShapes)
    feeds[name] = new ort.Tensor('float32', f32(params.get(name)!), shape);
  for (const [t, r] of projections)
    feeds[`R:${t}`] = new ort.Tensor('float32', f32(r), [n, ...shapes.get(t)!]);
  const out = await session.run(feeds);
  await session.release();

  // --- float64 reference and finite differences
  const loss64 = (): number => {
    const { values } = forward64(c.nodes, shapes, n, new Map([['x', x]]), params);
    let sum = 0;
    for (const [t, r] of projections) {
      const v = values.get(t)!;
      for (let i = 0; i < v.length; i++) sum += v[i] * r[i];
    }
    return sum;
  };
  const errors = new Map<string, number>();
  for (const [name, value] of params)
    errors.set(name, relativeL2(out[`grad:${name}`].data as Float32Array, finiteDifferences(value, loss64)));
  errors.set('x', relativeL2(out['grad:x'].data as Float32Array, finiteDifferences(x, loss64)));
  const statErrors = new Map<string, number>();
  const { stats } = forward64(c.nodes, shapes, n, new Map([['x', x]]), params);
  for (const [name, s] of stats) {
    statErrors.set(`mean:${name}`, relativeL2(out[`mean:${name}`].data as Float32Array, s.mean));
    statErrors.set(`var:${name}`, relativeL2(out[`var:${name}`].data as Float32Array, s.unbiasedVariance));
  }
  const lossError =
    Math.abs((out.loss.data as Float32Array)[0] - loss64()) / Math.max(Math.abs(loss64()), 1e-12);
  return { errors, statErrors, lossError };
}
