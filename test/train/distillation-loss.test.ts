import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import * as ort from 'onnxruntime-node';

import { OnnxGraphBuilder } from '../../src/model/onnx/builder.js';
import { TensorDataType } from '../../src/model/onnx/proto.js';
import { DEFAULT_GRADIENT_VARIANTS, EmitContext } from '../../src/train/autodiff/context.js';
import { emitDistillationLoss, emitMultiboxLoss } from '../../src/train/loss.js';
import { relativeL2 } from './helpers/fixture.js';
import { finiteDifferences, multiboxLoss64, random } from './helpers/reference.js';

/**
 * The distillation terms (loss.ts `emitDistillationLoss`) and the ignore label (−1) of the MultiBox loss against
 * float64 references: values within 1e-5 (relative), gradients vs central finite differences within 1e-3.
 */

const CLASSES = 2;
const WEIGHTS = { classification: 1.5, regression: 0.5 };

interface Batch {
  readonly n: number;
  readonly priors: number;
  readonly conf: Float64Array;
  readonly loc: Float64Array;
  readonly labels: BigInt64Array;
  readonly gt: Float64Array;
  /** [N, P, 2] probabilities, [N, P, 4] regression. */
  readonly teacherScores: Float64Array;
  readonly teacherLoc: Float64Array;
}

/**
 * Which priors the mask opens: all but the positives (distillationMask's default), or all of them
 * (`positives: true`, where the box term also runs on the positives and the class term still skips them);
 * 'box-limits': all of them, with the box term further limited to the priors of `BOX_PRIORS` and to teacher face
 * probabilities ≥ `BOX_MIN_FACE` (`--distill-box-max-prior`, `--distill-box-min-face`). Its batches have
 * `BOX_PRIORS.length` priors. 'box-open': the class term as 'closed-positives', the box term on its own mask
 * (`boxOpen`, `--distill-box-datasets`): every prior of every image but the first.
 */
type MaskMode = 'closed-positives' | 'open-positives' | 'box-limits' | 'box-open';

const BOX_PRIORS = Float32Array.from({ length: 30 }, (_, p) => (p % 3 === 2 ? 0 : 1));
const BOX_MIN_FACE = 0.2;

const sessions = new Map<MaskMode, ort.InferenceSession>();

async function lossSession(mode: MaskMode): Promise<ort.InferenceSession> {
  const cached = sessions.get(mode);
  if (cached) return cached;
  const b = new OnnxGraphBuilder();
  const ctx = new EmitContext(b, 'dynamic', DEFAULT_GRADIENT_VARIANTS, 'conf');
  b.input('conf', ['n', 'p', CLASSES]);
  b.input('loc', ['n', 'p', 4]);
  b.input('labels', ['n', 'p'], TensorDataType.INT64);
  b.input('gt', ['n', 'p', 4]);
  b.input('t_scores', ['n', 'p', CLASSES]);
  b.input('t_loc', ['n', 'p', 4]);
  if (mode === 'box-open') b.input('box_open', ['n', 'p']);
  const box = emitMultiboxLoss(
    ctx,
    {
      confidences: 'conf',
      locations: 'loc',
      labels: 'labels',
      gtLocations: 'gt',
      numClasses: CLASSES,
      negPosRatio: 3,
    },
    true,
  );
  const kd = emitDistillationLoss(
    ctx,
    {
      logProbs: box.logProbs,
      locations: 'loc',
      teacherScores: 't_scores',
      teacherLocations: 't_loc',
      scale: box.scale,
      open:
        mode === 'closed-positives' || mode === 'box-open'
          ? b.node('Sub', [b.scalar(1), box.positives]) // distillationMask without annotatedIou
          : b.node('Add', [b.node('Mul', [box.positives, b.scalar(0)]), b.scalar(1)]), // ones [N, P]
      positives: box.positives,
      weights: WEIGHTS,
      ...(mode === 'box-limits' ? { boxPriors: BOX_PRIORS, boxMinFace: BOX_MIN_FACE } : {}),
      ...(mode === 'box-open' ? { boxOpen: 'box_open' } : {}),
    },
    true,
  );
  const outputs: [string, string, (string | number)[]][] = [
    [box.regression, 'regression', []],
    [box.classification, 'classification', []],
    [kd.regression, 'kd_regression', []],
    [kd.classification, 'kd_classification', []],
    [b.node('Add', [box.gradients!.confidences, kd.gradients!.confidences]), 'd_conf', ['n', 'p', CLASSES]],
    [b.node('Add', [box.gradients!.locations, kd.gradients!.locations]), 'd_loc', ['n', 'p', 4]],
  ];
  for (const [from, name, shape] of outputs) {
    b.node('Identity', [from], name);
    b.output(name, shape);
  }
  const session = await ort.InferenceSession.create(b.build({ name: 'kd-test', opset: 17 }), {
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
  });
  sessions.set(mode, session);
  return session;
}

async function run(x: Batch, mode: MaskMode = 'closed-positives'): Promise<Record<string, Float32Array>> {
  const s = await lossSession(mode);
  const { n, priors: p } = x;
  const out = await s.run({
    conf: new ort.Tensor('float32', Float32Array.from(x.conf), [n, p, CLASSES]),
    loc: new ort.Tensor('float32', Float32Array.from(x.loc), [n, p, 4]),
    labels: new ort.Tensor('int64', x.labels, [n, p]),
    gt: new ort.Tensor('float32', Float32Array.from(x.gt), [n, p, 4]),
    t_scores: new ort.Tensor('float32', Float32Array.from(x.teacherScores), [n, p, CLASSES]),
    t_loc: new ort.Tensor('float32', Float32Array.from(x.teacherLoc), [n, p, 4]),
    ...(mode === 'box-open'
      ? {
          box_open: new ort.Tensor(
            'float32',
            Float32Array.from({ length: n * p }, (_, r) => (r < p ? 0 : 1)),
            [n, p],
          ),
        }
      : {}),
  });
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

/** The reference MultiBox loss with ignored priors removed (they are neither positives nor candidates). */
function boxLoss64(x: Batch): { regression: number; classification: number; mask: Uint8Array } {
  const keep: number[] = [];
  for (let b = 0; b < x.n; b++)
    for (let p = 0; p < x.priors; p++) if (x.labels[b * x.priors + p] >= 0n) keep.push(p);
  // per image the kept priors differ in count, so score each image separately and add with the global scale
  let regression = 0;
  let classification = 0;
  let numPos = 0;
  const mask = new Uint8Array(x.n * x.priors);
  for (let b = 0; b < x.n; b++) {
    const rows: number[] = [];
    for (let p = 0; p < x.priors; p++) if (x.labels[b * x.priors + p] >= 0n) rows.push(b * x.priors + p);
    const pick = (src: Float64Array, width: number): Float64Array =>
      Float64Array.from(rows.flatMap((r) => Array.from(src.subarray(r * width, (r + 1) * width))));
    const labels = BigInt64Array.from(rows.map((r) => x.labels[r]));
    const pos = labels.filter((l) => l > 0n).length;
    numPos += pos;
    const one = multiboxLoss64(pick(x.conf, CLASSES), pick(x.loc, 4), labels, pick(x.gt, 4), {
      n: 1,
      priors: rows.length,
      classes: CLASSES,
    });
    const s = Math.max(pos, 1);
    regression += one.regression * s;
    classification += one.classification * s;
    rows.forEach((r, i) => (mask[r] = one.mask[i]));
  }
  const scale = 1 / Math.max(numPos, 1);
  return { regression: regression * scale, classification: classification * scale, mask };
}

function distillation64(
  x: Batch,
  mode: MaskMode = 'closed-positives',
): { regression: number; classification: number } {
  let numPos = 0;
  for (const l of x.labels) if (l > 0n) numPos++;
  let kl = 0;
  let reg = 0;
  for (let r = 0; r < x.n * x.priors; r++) {
    const positive = x.labels[r] > 0n;
    const classOpen = !positive;
    const boxOpen = mode === 'box-open' ? r >= x.priors : mode !== 'closed-positives' || !positive;
    if (!classOpen && !boxOpen) continue;
    const z = [x.conf[r * 2], x.conf[r * 2 + 1]];
    const m = Math.max(...z);
    const lse = m + Math.log(Math.exp(z[0] - m) + Math.exp(z[1] - m));
    for (let c = 0; c < 2 && classOpen; c++) {
      const t = x.teacherScores[r * 2 + c];
      kl += t * (Math.log(Math.max(t, 1e-12)) - (z[c] - lse));
    }
    const face = 1 - x.teacherScores[r * 2];
    const boxed =
      boxOpen && (mode !== 'box-limits' || (BOX_PRIORS[r % x.priors] === 1 && face >= BOX_MIN_FACE));
    for (let k = 0; k < 4 && boxed; k++) {
      const d = Math.abs(x.loc[r * 4 + k] - x.teacherLoc[r * 4 + k]);
      reg += face * (d < 1 ? 0.5 * d * d : d - 0.5);
    }
  }
  const scale = 1 / Math.max(numPos, 1);
  return {
    regression: WEIGHTS.regression * reg * scale,
    classification: WEIGHTS.classification * kl * scale,
  };
}

function makeBatch(seed: number, n: number, priors: number): Batch {
  const rand = random(seed);
  const labels = BigInt64Array.from({ length: n * priors }, () => {
    const u = rand(0, 1);
    return u < 0.15 ? 1n : u < 0.35 ? -1n : 0n;
  });
  const teacherScores = new Float64Array(n * priors * 2);
  for (let r = 0; r < n * priors; r++) {
    const face = Math.fround(rand(0, 1) ** 3);
    teacherScores[r * 2 + 1] = face;
    teacherScores[r * 2] = Math.fround(1 - face);
  }
  return {
    n,
    priors,
    conf: Float64Array.from({ length: n * priors * 2 }, () => rand(-3, 3)),
    loc: Float64Array.from({ length: n * priors * 4 }, () => rand(-2, 2)),
    labels,
    gt: Float64Array.from({ length: n * priors * 4 }, () => rand(-2, 2)),
    teacherScores,
    teacherLoc: Float64Array.from({ length: n * priors * 4 }, () => rand(-2, 2)),
  };
}

describe('distillation loss and ignored priors', () => {
  after(async () => {
    for (const session of sessions.values()) await session.release();
  });

  it('values and gradients of MultiBox (with ignored priors) + distillation match float64 references', async () => {
    for (const [seed, n, priors, mode] of [
      [1, 2, 30, 'closed-positives'],
      [2, 3, 17, 'closed-positives'],
      [3, 1, 50, 'closed-positives'],
      [5, 2, 30, 'open-positives'],
      [6, 1, 50, 'open-positives'],
      [7, 2, 30, 'box-limits'],
      [8, 3, 30, 'box-limits'],
      [9, 3, 20, 'box-open'],
    ] as const) {
      const x = makeBatch(seed, n, priors);
      const ours = await run(x, mode);
      const box = boxLoss64(x);
      const kd = distillation64(x, mode);
      const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
      assert.ok(
        rel(ours.regression[0], box.regression) <= 1e-5,
        `regression ${ours.regression[0]} vs ${box.regression}`,
      );
      assert.ok(rel(ours.classification[0], box.classification) <= 1e-5, `classification`);
      assert.ok(
        rel(ours.kd_regression[0], kd.regression) <= 1e-5,
        `kd regression ${ours.kd_regression[0]} vs ${kd.regression}`,
      );
      assert.ok(rel(ours.kd_classification[0], kd.classification) <= 1e-5, `kd classification`);
      const total = (): number => {
        const a = boxLoss64(x);
        const d = distillation64(x, mode);
        return a.regression + a.classification + d.regression + d.classification;
      };
      const dConf = relativeL2(ours.d_conf, finiteDifferences(x.conf, total, 1e-6));
      const dLoc = relativeL2(ours.d_loc, finiteDifferences(x.loc, total, 1e-6));
      assert.ok(dConf <= 1e-3, `d confidences: relative L2 error ${dConf}`);
      assert.ok(dLoc <= 1e-3, `d locations: relative L2 error ${dLoc}`);
    }
  });

  it('ignored priors get no ground-truth gradient and are never mined, even when negatives run short', async () => {
    const x = makeBatch(4, 1, 12);
    x.labels.fill(-1n);
    x.labels[0] = 1n;
    x.labels[1] = 1n; // 2 positives ask for 6 negatives; only priors 2 and 3 are candidates
    x.labels[2] = 0n;
    x.labels[3] = 0n;
    // a teacher that agrees with the student everywhere: the distillation gradient is 0
    for (let r = 0; r < 12; r++) {
      const face = 1 / (1 + Math.exp(x.conf[r * 2] - x.conf[r * 2 + 1]));
      x.teacherScores[r * 2 + 1] = face;
      x.teacherScores[r * 2] = 1 - face;
    }
    x.teacherLoc.set(x.loc);
    const ours = await run(x);
    for (let p = 0; p < 12; p++) {
      const used = Math.abs(ours.d_conf[p * 2]) > 1e-6 || Math.abs(ours.d_conf[p * 2 + 1]) > 1e-6;
      assert.equal(used, p < 4, `prior ${p}`);
    }
    assert.ok(ours.d_loc.slice(8).every((v) => v === 0));
  });
});
