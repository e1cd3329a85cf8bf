import { TensorDataType } from '../model/onnx/proto.js';
import type { EmitContext } from './autodiff/context.js';

/** Upstream's MultiboxLoss(neg_pos_ratio = 3) (SPEC §5.4). */
export const NEG_POS_RATIO = 3;

export interface MultiboxLossOperands {
  /** [N, P, C] class logits. */
  readonly confidences: string;
  /** [N, P, 4] predicted regression (dx, dy, dw, dh). */
  readonly locations: string;
  /** [N, P] int64: 0 = background, ≥ 1 = class, −1 = ignored (no loss, never mined). */
  readonly labels: string;
  /** [N, P, 4] encoded ground truth (SPEC §5.1); read only where labels > 0. */
  readonly gtLocations: string;
  readonly numClasses: number;
  readonly negPosRatio: number;
}

export interface MultiboxLoss {
  /** Scalar Σ smooth-L1 over positives / max(num_pos, 1). */
  readonly regression: string;
  /** Scalar Σ cross-entropy over positives and mined negatives / max(num_pos, 1). */
  readonly classification: string;
  /** dL/dconfidences [N, P, C] and dL/dlocations [N, P, 4] of L = regression + classification. */
  readonly gradients?: { readonly confidences: string; readonly locations: string };
  /** [N, P, C] log_softmax(confidences), for other terms on the same logits. */
  readonly logProbs: string;
  /** Scalar 1 / max(num_pos, 1): the normalizer of both terms. */
  readonly scale: string;
  /** [N, P] float 1 on positive priors, else 0. */
  readonly positives: string;
}

/**
 * The MultiBox loss in ONNX ops (SPEC §5.4–§5.5), with its gradient when `withGradients`:
 *
 * - Hard negatives, per image i: background loss l = −log_softmax(conf)[0], set to −∞ on positives; the
 *   k_i = ratio · num_pos_i largest are mined (TopK with K = min(max_i k_i, P), then the first k_i of each row
 *   are scattered into a mask). Ties: ONNX TopK orders equal values by lower prior index, so among equal
 *   losses the lower prior index is mined first (PyTorch's unstable sort may pick any). An image without
 *   positives mines nothing. The mask carries no gradient (upstream computes it under no_grad).
 * - Classification: Σ over positives and mined negatives of −log_softmax(conf)[label].
 * - Regression: Σ over positives and the 4 coordinates of smooth-L1 (β = 1) of loc − gt.
 * - Both are divided by num_pos, the positives of the whole batch. Upstream divides by zero when a batch has
 *   no positives (inf/NaN); we divide by max(num_pos, 1), so such a batch has loss 0 and gradient 0.
 * - Ignored priors (label −1, not in upstream) are neither positives nor mining candidates: no loss, no gradient.
 */
export function emitMultiboxLoss(
  ctx: EmitContext,
  o: MultiboxLossOperands,
  withGradients: boolean,
): MultiboxLoss {
  const { b } = ctx;
  const axis2 = b.ints([2]);
  const logProbs = b.node('LogSoftmax', [o.confidences], undefined, { axis: 2 });
  const positive = b.node('Greater', [o.labels, ctx.int64Scalar(0)]); // [N, P] bool
  const ignored = b.node('Less', [o.labels, ctx.int64Scalar(0)]); // [N, P] bool
  const classIndex = b.node('Max', [o.labels, ctx.int64Scalar(0)]); // ignored → 0; masked out below
  const positiveF = b.node('Cast', [positive], undefined, { to: TensorDataType.FLOAT });
  const numPos = b.node('ReduceSum', [positiveF], undefined, { keepdims: 0 });
  const scale = b.node('Reciprocal', [b.node('Max', [numPos, b.scalar(1)])]);

  // --- hard negative mining (no gradient)
  const background = b.node('Neg', [
    b.node('Gather', [logProbs, ctx.int64Scalar(0)], undefined, { axis: 2 }),
  ]);
  const ranked = b.node('Where', [b.node('Or', [positive, ignored]), b.scalar(-Infinity), background]);
  const posPerImage = b.node('ReduceSum', [positiveF, b.ints([1])], undefined, { keepdims: 1 }); // [N, 1]
  const negPerImage = b.node('Cast', [b.node('Mul', [posPerImage, b.scalar(o.negPosRatio)])], undefined, {
    to: TensorDataType.INT64,
  });
  const priors = b.node('Shape', [o.labels], undefined, { start: 1, end: 2 }); // [1] = P
  // K ≥ 1 keeps TopK well-defined when no image has positives (then no rank passes the k_i test)
  const k = b.node('Max', [
    b.node('Min', [b.node('ReduceMax', [negPerImage], undefined, { axes: [0, 1], keepdims: 0 }), priors]),
    b.ints([1]),
  ]);
  const [, topIndices] = b.multiNode('TopK', [ranked, k], [b.fresh('topk_values'), b.fresh('topk_indices')], {
    axis: 1,
    largest: 1,
    sorted: 1,
  });
  const ranks = b.node('Range', [ctx.int64Scalar(0), b.node('Reshape', [k, b.ints([])]), ctx.int64Scalar(1)]);
  const selected = b.node('Cast', [b.node('Less', [ranks, negPerImage])], undefined, {
    to: TensorDataType.FLOAT,
  });
  const zeros = b.node('ConstantOfShape', [b.node('Shape', [o.labels])]); // float 0, [N, P]
  const minedAny = b.node('ScatterElements', [zeros, topIndices, selected], undefined, { axis: 1 });
  // an image with fewer candidates than k_i would otherwise mine −∞-ranked (positive or ignored) priors
  const candidate = b.node('Cast', [b.node('Equal', [o.labels, ctx.int64Scalar(0)])], undefined, {
    to: TensorDataType.FLOAT,
  });
  const mined = b.node('Mul', [minedAny, candidate]);
  const mask = b.node('Max', [positiveF, mined]); // positives ∪ mined negatives, [N, P] 0/1
  const mask3 = b.node('Unsqueeze', [mask, axis2]);

  // --- classification: Σ mask · (−log p[label])
  const labels3 = b.node('Unsqueeze', [classIndex, axis2]);
  const crossEntropy = b.node('Neg', [b.node('GatherElements', [logProbs, labels3], undefined, { axis: 2 })]);
  const classification = b.node('Mul', [
    b.node('ReduceSum', [b.node('Mul', [crossEntropy, mask3])], undefined, { keepdims: 0 }),
    scale,
  ]);

  // --- regression: smooth-L1 on positives; Where (not Mul) so garbage targets of negatives cannot leak NaN
  const positive3 = b.node('Unsqueeze', [positive, axis2]);
  const diff = b.node('Where', [positive3, b.node('Sub', [o.locations, o.gtLocations]), b.scalar(0)]);
  const abs = b.node('Abs', [diff]);
  const smooth = b.node('Where', [
    b.node('Less', [abs, b.scalar(1)]),
    b.node('Mul', [b.node('Mul', [diff, diff]), b.scalar(0.5)]),
    b.node('Sub', [abs, b.scalar(0.5)]),
  ]);
  const regression = b.node('Mul', [b.node('ReduceSum', [smooth], undefined, { keepdims: 0 }), scale]);
  if (!withGradients) return { regression, classification, logProbs, scale, positives: positiveF };

  // d/dconf of −log_softmax(conf)[y] = softmax(conf) − onehot(y); d/dd of smooth-L1 = clip(d, −1, 1)
  const classes = b.node('Range', [ctx.int64Scalar(0), ctx.int64Scalar(o.numClasses), ctx.int64Scalar(1)]);
  const onehot = b.node('Cast', [b.node('Equal', [labels3, classes])], undefined, {
    to: TensorDataType.FLOAT,
  });
  const dConf = b.node('Mul', [
    b.node('Mul', [b.node('Sub', [b.node('Exp', [logProbs]), onehot]), mask3]),
    scale,
  ]);
  const dLoc = b.node('Mul', [b.node('Clip', [diff, b.scalar(-1), b.scalar(1)]), scale]);
  return {
    regression,
    classification,
    logProbs,
    scale,
    positives: positiveF,
    gradients: { confidences: dConf, locations: dLoc },
  };
}

/** Weights of the distillation terms (`DistillationLoss`); 0 switches a term off. */
export interface DistillationWeights {
  /** On Σ KL(teacher ‖ student) of the class distributions over every prior. */
  readonly classification: number;
  /** On Σ teacher face probability · smooth-L1(student − teacher regression). */
  readonly regression: number;
  /**
   * On the squared distance between the student's and the teacher's attention maps of the first level's head
   * feature map (`headFeature` level 0, what the smallest priors are predicted from; `emitFeatureDistillation`).
   * Absent or 0: no feature term (and no feature input).
   */
  readonly features?: number;
}

export interface DistillationOperands {
  /** [N, P, C] log_softmax of the student's logits, and the student's regression [N, P, 4]. */
  readonly logProbs: string;
  readonly locations: string;
  /** [N, P, C] the teacher's class probabilities (softmax) on the same images and priors. */
  readonly teacherScores: string;
  /** [N, P, 4] the teacher's raw regression against the same priors. */
  readonly teacherLocations: string;
  /** Scalar normalizer, the MultiBox loss's 1 / max(num_pos, 1), so both losses share one scale. */
  readonly scale: string;
  /**
   * [N, P] float 1 where the teacher teaches, 0 where the annotation alone rules: its positives (unless the box
   * term is asked there too), and with `annotatedIou` the priors around annotated faces (teacher.ts
   * `distillationMask`).
   */
  readonly open: string;
  /** [N, P] where the box term runs, when it differs from `open` (e.g. some datasets only); absent: `open`. */
  readonly boxOpen?: string;
  /** [N, P] float 1 on the annotation's positive priors (`MultiboxLoss.positives`): never in the class term. */
  readonly positives: string;
  readonly weights: DistillationWeights;
  /**
   * [P] 1 at the priors the box term reaches, 0 elsewhere, the same for every image (`--distill-box-max-prior`:
   * only small priors, so larger faces keep the annotation's box style); absent: every prior. The class term
   * ignores it.
   */
  readonly boxPriors?: Float32Array;
  /**
   * The box term only where the teacher's face probability reaches this (`--distill-box-min-face`): the priors it
   * calls a face, not every background prior at a small weight; absent or 0: everywhere, weighted.
   */
  readonly boxMinFace?: number;
}

export interface DistillationLoss {
  /** Scalar w_cls · Σ_{n,p open, not positive} Σ_c t·(log t − log p) · scale. */
  readonly classification: string;
  /** Scalar w_reg · Σ_{n,p open (in boxPriors, t_face ≥ boxMinFace)} t_face · smooth-L1(loc − t_loc) · scale. */
  readonly regression: string;
  readonly gradients?: { readonly confidences: string; readonly locations: string };
}

/**
 * Knowledge distillation from a teacher with the same priors (issue #15, point 7): the student matches the
 * teacher's class distribution at every prior the annotations leave open (`open`) — background, ignored and
 * unannotated faces, which is the point — and, weighted by the teacher's face probability, its box regression
 * there. On the ground truth's positive priors (and, if asked, around annotated faces) the annotation rules alone:
 * a teacher that misses masked faces, or boxes faces in another style than the dataset, must not argue with the
 * human box. A mask that opens positives (`--distill-positive-boxes`) lets the box term in there as well; the class
 * term never: the annotation says "face" for sure. Face probability = 1 − t_background.
 * Gradients: d/dlogits of Σ_c −t_c log p_c is p − t (Σ t = 1); smooth-L1's is clip(d, −1, 1).
 */
export function emitDistillationLoss(
  ctx: EmitContext,
  o: DistillationOperands,
  withGradients: boolean,
): DistillationLoss {
  const { b } = ctx;
  const t = o.teacherScores;
  const logT = b.node('Log', [b.node('Max', [t, b.scalar(1e-12)])]);
  const open3 = b.node('Unsqueeze', [o.boxOpen ?? o.open, b.ints([2])]); // [N, P, 1], the box term's priors
  const classOpen3 = b.node('Unsqueeze', [
    b.node('Mul', [o.open, b.node('Sub', [b.scalar(1), o.positives])]),
    b.ints([2]),
  ]); // [N, P, 1], the class term's: the same without positives
  const kl = b.node('Mul', [b.node('Mul', [t, b.node('Sub', [logT, o.logProbs])]), classOpen3]);
  const classification = b.node('Mul', [
    b.node('Mul', [
      b.node('ReduceSum', [kl], undefined, { keepdims: 0 }),
      b.scalar(o.weights.classification),
    ]),
    o.scale,
  ]);

  const face = b.node('Sub', [
    b.scalar(1),
    b.node('Gather', [t, ctx.int64Scalar(0)], undefined, { axis: 2 }),
  ]); // [N, P]
  const boxFace = o.boxMinFace
    ? b.node('Where', [b.node('Less', [face, b.scalar(o.boxMinFace)]), b.scalar(0), face])
    : face; // [N, P]
  const faceOpen3 = b.node('Mul', [b.node('Unsqueeze', [boxFace, b.ints([2])]), open3]); // [N, P, 1]
  const face3 = o.boxPriors
    ? b.node('Mul', [
        faceOpen3,
        b.float(b.fresh('distill_box_priors'), [1, o.boxPriors.length, 1], o.boxPriors),
      ])
    : faceOpen3;
  const diff = b.node('Sub', [o.locations, o.teacherLocations]);
  const abs = b.node('Abs', [diff]);
  const smooth = b.node('Where', [
    b.node('Less', [abs, b.scalar(1)]),
    b.node('Mul', [b.node('Mul', [diff, diff]), b.scalar(0.5)]),
    b.node('Sub', [abs, b.scalar(0.5)]),
  ]);
  const regression = b.node('Mul', [
    b.node('Mul', [
      b.node('ReduceSum', [b.node('Mul', [smooth, face3])], undefined, { keepdims: 0 }),
      b.scalar(o.weights.regression),
    ]),
    o.scale,
  ]);
  if (!withGradients) return { classification, regression };

  const clsFactor = b.node('Mul', [b.scalar(o.weights.classification), o.scale]);
  const dConf = b.node('Mul', [
    b.node('Mul', [b.node('Sub', [b.node('Exp', [o.logProbs]), t]), classOpen3]),
    clsFactor,
  ]);
  const regFactor = b.node('Mul', [b.scalar(o.weights.regression), o.scale]);
  const dLoc = b.node('Mul', [
    b.node('Mul', [b.node('Clip', [diff, b.scalar(-1), b.scalar(1)]), face3]),
    regFactor,
  ]);
  return {
    classification,
    regression,
    gradients: { confidences: dConf, locations: dLoc },
  };
}

export interface FeatureDistillationLoss {
  readonly loss: string;
  /** d loss / d student feature map, to seed the backward pass at that inner tensor. */
  readonly gradient?: string;
}

/**
 * Feature distillation by attention transfer (Zagoruyko & Komodakis, 2017): where on the feature map under the
 * smallest priors the teacher's channels are active, `a = Σ_c F²` per location, L2-normalized per image
 * (`q = a / ‖a‖`), and the student's matched to it: `weight · Σ_n ‖q_s − q_t‖² · scale`, with the MultiBox loss's
 * `scale` (1 / positives) so that shards combine as every other term does. A map over locations, not channels:
 * it needs no channel correspondence between two independently trained nets, so the student keeps its own features
 * and learns where the teacher sees something — a 4-pixel face, which gives the class and box targets a single
 * positive prior.
 *
 * `student` [N, C, H, W] is the student's feature map (training mode), `teacher` the teacher's on the same images.
 */
export function emitFeatureDistillation(
  ctx: EmitContext,
  o: {
    readonly student: string;
    readonly teacher: string;
    readonly scale: string;
    readonly weight: number;
    /** [N, 1, 1, 1] 1 for the images the teacher teaches, 0 for the others; absent: all. */
    readonly taught?: string;
  },
  withGradients: boolean,
): FeatureDistillationLoss {
  const { b } = ctx;
  const attention = (features: string): { map: string; norm: string } => {
    const energy = b.node('ReduceSum', [b.node('Mul', [features, features]), b.ints([1])], undefined, {
      keepdims: 1,
    }); // [N, 1, H, W]
    const norm = b.node('Sqrt', [
      b.node('Add', [
        b.node('ReduceSum', [b.node('Mul', [energy, energy]), b.ints([2, 3])], undefined, { keepdims: 1 }),
        b.scalar(1e-12),
      ]),
    ]); // [N, 1, 1, 1]
    return { map: b.node('Div', [energy, norm]), norm };
  };
  const s = attention(o.student);
  const t = attention(o.teacher);
  const gap = b.node('Sub', [s.map, t.map]); // [N, 1, H, W]
  const diff = o.taught === undefined ? gap : b.node('Mul', [gap, o.taught]);
  const factor = b.node('Mul', [b.scalar(o.weight), o.scale]);
  const loss = b.node('Mul', [
    b.node('ReduceSum', [b.node('Mul', [diff, diff])], undefined, { keepdims: 0 }),
    factor,
  ]);
  if (!withGradients) return { loss };
  // g = dL/dq; through q = a / ‖a‖: dL/da = (g − q (q·g)) / ‖a‖; through a = Σ_c F²: dL/dF = 2 F dL/da.
  const g = b.node('Mul', [diff, b.node('Mul', [factor, b.scalar(2)])]);
  const along = b.node('ReduceSum', [b.node('Mul', [s.map, g]), b.ints([2, 3])], undefined, { keepdims: 1 });
  const dEnergy = b.node('Div', [b.node('Sub', [g, b.node('Mul', [s.map, along])]), s.norm]);
  const gradient = b.node('Mul', [b.node('Mul', [o.student, dEnergy]), b.scalar(2)]);
  return { loss, gradient };
}
