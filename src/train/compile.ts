import { UltrafaceError } from '../core/errors.js';
import { integerInRange, invalidOption, knownKeys, numberInRange, oneOf } from '../core/validate.js';
import { headFeature, type BatchNormNode, type ModelGraph } from '../model/graph.js';
import { OnnxGraphBuilder, type Dim } from '../model/onnx/builder.js';
import { TensorDataType } from '../model/onnx/proto.js';
import { inferShapes } from '../model/shapes.js';
import { DEFAULT_GRADIENT_VARIANTS, EmitContext, type GradientVariants } from './autodiff/context.js';
import { GraphDifferentiator } from './autodiff/differentiate.js';
import {
  emitDistillationLoss,
  emitFeatureDistillation,
  emitMultiboxLoss,
  NEG_POS_RATIO,
  type DistillationWeights,
} from './loss.js';

export { DEFAULT_GRADIENT_VARIANTS, type GradientVariants } from './autodiff/context.js';

/** Graph input names. */
export const IMAGE_INPUT = 'input';
export const LABELS_INPUT = 'labels';
export const GT_LOCATIONS_INPUT = 'gt_locations';
export const TEACHER_SCORES_INPUT = 'teacher_scores';
export const DISTILL_MASK_INPUT = 'distill_mask';
export const DISTILL_BOX_MASK_INPUT = 'distill_box_mask';
export const TEACHER_LOCATIONS_INPUT = 'teacher_locations';
export const TEACHER_FEATURES_INPUT = 'teacher_features';
/** Graph output names. */
export const LOSS_REGRESSION_OUTPUT = 'loss_regression';
export const LOSS_CLASSIFICATION_OUTPUT = 'loss_classification';
export const LOSS_DISTILL_REGRESSION_OUTPUT = 'loss_distill_regression';
export const LOSS_DISTILL_CLASSIFICATION_OUTPUT = 'loss_distill_classification';
export const LOSS_DISTILL_FEATURES_OUTPUT = 'loss_distill_features';
export const gradientOutput = (param: string): string => `grad:${param}`;
export const batchMeanOutput = (batchNorm: string): string => `batch_mean:${batchNorm}`;
export const batchVarianceOutput = (batchNorm: string): string => `batch_var:${batchNorm}`;

export type TrainingGraphMode = 'train' | 'eval';

export interface TrainingGraphOptions {
  /** Network input width and height in pixels (the graph is fixed to them). */
  readonly width: number;
  readonly height: number;
  /** Images per step; `'dynamic'` leaves N symbolic, so one graph serves a last, smaller batch too. */
  readonly batchSize: number | 'dynamic';
  /**
   * `train` (default): losses, parameter gradients and BN batch statistics, BN in training mode.
   * `eval`: the losses only, BN with the running statistics (inputs `<bn>.running_mean` / `.running_var`) —
   * what upstream's validation computes (SPEC §7.3, eval mode).
   */
  readonly mode?: TrainingGraphMode;
  /** Gradient constructions (see `GradientVariants`); defaults `DEFAULT_GRADIENT_VARIANTS`. */
  readonly variants?: Partial<GradientVariants>;
  /** Mined negatives per positive (default 3, SPEC §5.4). */
  readonly negPosRatio?: number;
  /**
   * Adds the distillation terms (loss.ts `emitDistillationLoss`) with these weights, and the inputs
   * `teacher_scores` [N, P, C], `teacher_locations` [N, P, 4] and `distill_mask` [N, P] they read. Gradients are
   * of the sum of all four losses.
   */
  readonly distillation?: DistillationWeights;
  /**
   * With `distillation`: [P] 1 at the priors its box term reaches, 0 elsewhere (loss.ts
   * `DistillationOperands.boxPriors`); absent: every prior.
   */
  readonly distillationBoxPriors?: Float32Array;
  /** With `distillation`: its box term only where the teacher's face probability reaches this; absent: everywhere. */
  readonly distillationBoxMinFace?: number;
  /**
   * With `distillation`: adds the input `distill_box_mask` [N, P], where the box term runs instead of
   * `distill_mask` (which then rules the class term alone), e.g. the box term on some datasets' images only.
   */
  readonly distillationBoxMask?: boolean;
}

export type TrainingInputRole =
  | 'image'
  | 'labels'
  | 'gt_locations'
  | 'teacher_scores'
  | 'teacher_locations'
  | 'teacher_features'
  | 'distill_mask'
  | 'distill_box_mask'
  | 'param'
  | 'running_mean'
  | 'running_var';
export type TrainingOutputRole =
  | 'loss_regression'
  | 'loss_classification'
  | 'loss_distill_regression'
  | 'loss_distill_classification'
  | 'loss_distill_features'
  | 'grad'
  | 'batch_mean'
  | 'batch_var';

export interface TrainingGraphValue<Role extends string> {
  /** Name in the ONNX graph. */
  readonly name: string;
  readonly role: Role;
  readonly dtype: 'float32' | 'int64';
  /** Dimensions; the batch is `'batch'` when dynamic. */
  readonly shape: readonly Dim[];
  /** The state-dict key (param, running stats, grad) or the BatchNorm module (batch stats), when any. */
  readonly source?: string;
}

export interface CompiledTrainingGraph {
  /** The ONNX model (opset 17) to run with onnxruntime, one `session.run` per step. */
  readonly onnx: Uint8Array;
  /**
   * Inputs: `input` [N, 3, H, W] float32 ((x − 127)/128 RGB), `labels` [N, P] int64, `gt_locations` [N, P, 4]
   * float32, with distillation `teacher_scores` [N, P, C], `teacher_locations` [N, P, 4] and `distill_mask`
   * [N, P] (and `distill_box_mask` [N, P] with `distillationBoxMask`), then every learnable parameter under its
   * state-dict key (and, in eval mode, the BN running statistics under theirs).
   */
  readonly inputs: readonly TrainingGraphValue<TrainingInputRole>[];
  /**
   * Outputs: `loss_regression`, `loss_classification` (scalars), with distillation `loss_distill_regression`
   * and `loss_distill_classification`, then in train mode `grad:<key>` for every
   * learnable parameter (state-dict order) and `batch_mean:<bn>`, `batch_var:<bn>` (unbiased) per BatchNorm.
   */
  readonly outputs: readonly TrainingGraphValue<TrainingOutputRole>[];
  /** Priors P per image (the second dimension of `labels`). */
  readonly priorCount: number;
  /** The BatchNorm modules, in graph order, with their momentum for the running-statistics update. */
  readonly batchNorms: readonly BatchNormNode[];
  readonly mode: TrainingGraphMode;
  readonly variants: GradientVariants;
}

const OPSET = 17;

const VARIANT_CHOICES: { readonly [K in keyof GradientVariants]: readonly GradientVariants[K][] } = {
  depthwiseFilter: ['auto', 'unfold-matmul', 'shifted-products', 'group-c', 'group-nc'],
  convFilter: ['transposed-conv', 'unfold-matmul'],
  convData: ['conv-transpose', 'flipped-conv'],
  batchNorm: ['fused', 'basic'],
  reluGradient: ['mask', 'sign', 'where'],
};

function resolveVariants(
  given: Partial<GradientVariants> | undefined,
  batch: number | 'dynamic',
): GradientVariants {
  if (given === undefined) return DEFAULT_GRADIENT_VARIANTS;
  const value: unknown = given; // callers without types may pass anything
  if (typeof value !== 'object' || value === null) throw invalidOption('variants', 'an object', value);
  knownKeys('variants', given, Object.keys(VARIANT_CHOICES));
  const pick = <K extends keyof GradientVariants>(key: K): GradientVariants[K] =>
    oneOf(`variants.${key}`, given[key] ?? DEFAULT_GRADIENT_VARIANTS[key], VARIANT_CHOICES[key]);
  const v: GradientVariants = {
    depthwiseFilter: pick('depthwiseFilter'),
    convFilter: pick('convFilter'),
    convData: pick('convData'),
    batchNorm: pick('batchNorm'),
    reluGradient: pick('reluGradient'),
  };
  if (v.depthwiseFilter === 'group-nc' && batch === 'dynamic') {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      'Expected a fixed batchSize with variants.depthwiseFilter "group-nc" (its Conv has group = N·C) but received "dynamic"',
    );
  }
  return Object.freeze(v);
}

function validate(options: TrainingGraphOptions): void {
  knownKeys('options', options, [
    'width',
    'height',
    'batchSize',
    'mode',
    'variants',
    'negPosRatio',
    'distillation',
    'distillationBoxPriors',
    'distillationBoxMinFace',
    'distillationBoxMask',
  ]);
  integerInRange('width', options.width, 1, 65535);
  integerInRange('height', options.height, 1, 65535);
  if (options.batchSize !== 'dynamic') {
    if (
      typeof options.batchSize !== 'number' ||
      !Number.isInteger(options.batchSize) ||
      options.batchSize < 1
    )
      throw invalidOption('batchSize', 'a positive integer or "dynamic"', options.batchSize);
  }
  if (options.mode !== undefined) oneOf('mode', options.mode, ['train', 'eval']);
  if (options.negPosRatio !== undefined) integerInRange('negPosRatio', options.negPosRatio, 0, 1000);
  if (options.distillation !== undefined) {
    knownKeys('distillation', options.distillation, ['classification', 'regression', 'features']);
    numberInRange('distillation.classification', options.distillation.classification, 0, 1e6);
    numberInRange('distillation.regression', options.distillation.regression, 0, 1e6);
    if (options.distillation.features !== undefined) {
      numberInRange('distillation.features', options.distillation.features, 0, 1e6);
    }
  }
  // The box term's limits narrow the distillation loss: none of them without it
  for (const key of ['distillationBoxPriors', 'distillationBoxMinFace', 'distillationBoxMask'] as const) {
    const value = options[key];
    if (options.distillation === undefined && value !== undefined && value !== false) {
      throw invalidOption(key, 'to come with distillation', 'no distillation');
    }
  }
  if (options.distillationBoxMinFace !== undefined) {
    numberInRange('distillationBoxMinFace', options.distillationBoxMinFace, 0, 1);
  }
  if (options.distillationBoxMask !== undefined) {
    oneOf('distillationBoxMask', options.distillationBoxMask, [true, false]);
  }
  const boxPriors = options.distillationBoxPriors;
  if (
    boxPriors !== undefined &&
    (!(boxPriors instanceof Float32Array) || boxPriors.some((v) => v !== 0 && v !== 1))
  ) {
    throw invalidOption('distillationBoxPriors', 'a Float32Array of 0 and 1', boxPriors);
  }
}

/**
 * Compiles the detector graph into ONE ONNX graph that computes a training step's losses and parameter
 * gradients (reverse-mode autodiff over `graph`, standard ONNX ops only; DESIGN.md "Training engine"). The
 * optimizer and the BN running-statistics update run outside the graph, on its outputs.
 */
export function compileTrainingGraph(
  graph: ModelGraph,
  options: TrainingGraphOptions,
): CompiledTrainingGraph {
  validate(options);
  const mode = options.mode ?? 'train';
  const batch = options.batchSize;
  const variants = resolveVariants(options.variants, batch);
  const shapes = inferShapes(graph, options.width, options.height);
  const confShape = shapes.get(graph.outputs.confidences);
  if (!confShape) throw new Error('compileTrainingGraph: the graph has no confidences output');
  const priorCount = confShape[0];
  if (options.distillationBoxPriors && options.distillationBoxPriors.length !== priorCount) {
    throw invalidOption(
      'distillationBoxPriors',
      `one value per prior (${priorCount})`,
      `${options.distillationBoxPriors.length} values`,
    );
  }

  const b = new OnnxGraphBuilder();
  const ctx = new EmitContext(b, batch, variants, IMAGE_INPUT);
  const inputs: TrainingGraphValue<TrainingInputRole>[] = [];
  const outputs: TrainingGraphValue<TrainingOutputRole>[] = [];
  const addInput = (value: TrainingGraphValue<TrainingInputRole>): string => {
    inputs.push(value);
    return b.input(
      value.name,
      value.shape,
      value.dtype === 'int64' ? TensorDataType.INT64 : TensorDataType.FLOAT,
    );
  };
  const addOutput = (value: TrainingGraphValue<TrainingOutputRole>, from: string): void => {
    outputs.push(value);
    b.node('Identity', [from], value.name);
    b.output(value.name, value.shape);
  };

  const image = addInput({
    name: IMAGE_INPUT,
    role: 'image',
    dtype: 'float32',
    shape: ctx.full([3, options.height, options.width]),
  });
  const labels = addInput({
    name: LABELS_INPUT,
    role: 'labels',
    dtype: 'int64',
    shape: ctx.full([priorCount]),
  });
  const gtLocations = addInput({
    name: GT_LOCATIONS_INPUT,
    role: 'gt_locations',
    dtype: 'float32',
    shape: ctx.full([priorCount, 4]),
  });
  const teacher = options.distillation
    ? {
        scores: addInput({
          name: TEACHER_SCORES_INPUT,
          role: 'teacher_scores',
          dtype: 'float32',
          shape: ctx.full([priorCount, graph.numClasses]),
        }),
        locations: addInput({
          name: TEACHER_LOCATIONS_INPUT,
          role: 'teacher_locations',
          dtype: 'float32',
          shape: ctx.full([priorCount, 4]),
        }),
        mask: addInput({
          name: DISTILL_MASK_INPUT,
          role: 'distill_mask',
          dtype: 'float32',
          shape: ctx.full([priorCount]),
        }),
        boxMask: options.distillationBoxMask
          ? addInput({
              name: DISTILL_BOX_MASK_INPUT,
              role: 'distill_box_mask',
              dtype: 'float32',
              shape: ctx.full([priorCount]),
            })
          : undefined,
      }
    : undefined;
  const feature = options.distillation?.features ? headFeature(graph, 0) : undefined; // [N, C, H, W]
  const teacherFeatures =
    feature === undefined
      ? undefined
      : addInput({
          name: TEACHER_FEATURES_INPUT,
          role: 'teacher_features',
          dtype: 'float32',
          shape: ctx.full([...shapes.get(feature)!]),
        });
  const paramValues = new Map<string, string>();
  for (const p of graph.params) {
    const role: TrainingInputRole | undefined = p.learnable
      ? 'param'
      : mode === 'eval' && (p.role === 'running_mean' || p.role === 'running_var')
        ? p.role
        : undefined;
    if (role === undefined) continue;
    paramValues.set(
      p.name,
      addInput({ name: p.name, role, dtype: 'float32', shape: p.shape, source: p.name }),
    );
  }
  const param = (name: string): string => {
    const v = paramValues.get(name);
    if (v === undefined) throw new Error(`compileTrainingGraph: parameter ${name} is not a graph input`);
    return v;
  };

  const diff = new GraphDifferentiator(ctx, { nodes: graph.nodes, shapes }, param);
  diff.forward(new Map([[graph.input, image]]), mode);
  const confidences = diff.value(graph.outputs.confidences);
  const locations = diff.value(graph.outputs.locations);
  const loss = emitMultiboxLoss(
    ctx,
    {
      confidences,
      locations,
      labels,
      gtLocations,
      numClasses: graph.numClasses,
      negPosRatio: options.negPosRatio ?? NEG_POS_RATIO,
    },
    mode === 'train',
  );
  addOutput(
    { name: LOSS_REGRESSION_OUTPUT, role: 'loss_regression', dtype: 'float32', shape: [] },
    loss.regression,
  );
  addOutput(
    { name: LOSS_CLASSIFICATION_OUTPUT, role: 'loss_classification', dtype: 'float32', shape: [] },
    loss.classification,
  );

  const distillation =
    teacher && options.distillation
      ? emitDistillationLoss(
          ctx,
          {
            logProbs: loss.logProbs,
            locations,
            teacherScores: teacher.scores,
            teacherLocations: teacher.locations,
            scale: loss.scale,
            open: teacher.mask,
            ...(teacher.boxMask ? { boxOpen: teacher.boxMask } : {}),
            positives: loss.positives,
            weights: options.distillation,
            ...(options.distillationBoxPriors ? { boxPriors: options.distillationBoxPriors } : {}),
            ...(options.distillationBoxMinFace ? { boxMinFace: options.distillationBoxMinFace } : {}),
          },
          mode === 'train',
        )
      : undefined;
  if (distillation) {
    addOutput(
      {
        name: LOSS_DISTILL_REGRESSION_OUTPUT,
        role: 'loss_distill_regression',
        dtype: 'float32',
        shape: [],
      },
      distillation.regression,
    );
    addOutput(
      {
        name: LOSS_DISTILL_CLASSIFICATION_OUTPUT,
        role: 'loss_distill_classification',
        dtype: 'float32',
        shape: [],
      },
      distillation.classification,
    );
  }

  const featureTerm =
    feature !== undefined && teacherFeatures !== undefined
      ? emitFeatureDistillation(
          ctx,
          {
            student: diff.value(feature),
            teacher: teacherFeatures,
            scale: loss.scale,
            weight: options.distillation!.features!,
            // An image is taught when any of its priors is open (a taught image always has background priors).
            taught: b.node('Unsqueeze', [
              b.node('ReduceMax', [teacher!.mask], undefined, { axes: [1], keepdims: 0 }),
              b.ints([1, 2, 3]),
            ]),
          },
          mode === 'train',
        )
      : undefined;
  if (featureTerm) {
    addOutput(
      { name: LOSS_DISTILL_FEATURES_OUTPUT, role: 'loss_distill_features', dtype: 'float32', shape: [] },
      featureTerm.loss,
    );
  }

  if (loss.gradients) {
    const extra = distillation?.gradients;
    const seeds = new Map([
      [
        graph.outputs.confidences,
        extra ? b.node('Add', [loss.gradients.confidences, extra.confidences]) : loss.gradients.confidences,
      ],
      [
        graph.outputs.locations,
        extra ? b.node('Add', [loss.gradients.locations, extra.locations]) : loss.gradients.locations,
      ],
    ]);
    // The feature term enters the backward pass at the inner tensor, summed with what flows down from the heads.
    if (feature !== undefined && featureTerm?.gradient) seeds.set(feature, featureTerm.gradient);
    const grads = diff.backward(seeds);
    for (const p of graph.params) {
      if (!p.learnable) continue;
      const g = grads.params.get(p.name);
      if (g === undefined) throw new Error(`compileTrainingGraph: ${p.name} does not reach the loss`);
      addOutput(
        { name: gradientOutput(p.name), role: 'grad', dtype: 'float32', shape: p.shape, source: p.name },
        g,
      );
    }
    for (const s of diff.batchStatistics()) {
      const shape = [s.node.channels];
      addOutput(
        {
          name: batchMeanOutput(s.node.name),
          role: 'batch_mean',
          dtype: 'float32',
          shape,
          source: s.node.name,
        },
        s.mean,
      );
      addOutput(
        {
          name: batchVarianceOutput(s.node.name),
          role: 'batch_var',
          dtype: 'float32',
          shape,
          source: s.node.name,
        },
        s.variance,
      );
    }
  }

  const onnx = b.build({ name: `ultraface-train-${mode}-${options.width}x${options.height}`, opset: OPSET });
  return Object.freeze({
    onnx,
    inputs: Object.freeze(inputs),
    outputs: Object.freeze(outputs),
    priorCount,
    batchNorms: Object.freeze(graph.nodes.filter((n): n is BatchNormNode => n.op === 'batchnorm')),
    mode,
    variants,
  });
}
