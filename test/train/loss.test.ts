import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';
import * as ort from 'onnxruntime-node';

import { OnnxGraphBuilder } from '../../src/model/onnx/builder.js';
import { TensorDataType } from '../../src/model/onnx/proto.js';
import { DEFAULT_GRADIENT_VARIANTS, EmitContext } from '../../src/train/autodiff/context.js';
import { emitMultiboxLoss } from '../../src/train/loss.js';
import { relativeL2 } from './helpers/fixture.js';
import { finiteDifferences, multiboxLoss64, random } from './helpers/reference.js';

/**
 * The MultiBox loss graph (SPEC §5.4–§5.5) vs a float64 reference: loss values within 1e-5 (relative), the
 * gradients w.r.t. confidences and locations vs central finite differences within 1e-3 (relative L2), and the
 * mining rule (3 negatives per positive, per image; ties by lower prior index).
 */

interface LossBatch {
  readonly n: number;
  readonly priors: number;
  readonly classes: number;
  readonly conf: Float64Array;
  readonly loc: Float64Array;
  readonly labels: BigInt64Array;
  readonly gt: Float64Array;
}

interface LossResult {
  readonly regression: number;
  readonly classification: number;
  readonly dConf: Float32Array;
  readonly dLoc: Float32Array;
}

const sessions = new Map<number, ort.InferenceSession>();

/** One session per class count; N and P are symbolic. */
async function lossSession(classes: number): Promise<ort.InferenceSession> {
  const cached = sessions.get(classes);
  if (cached) return cached;
  const b = new OnnxGraphBuilder();
  const ctx = new EmitContext(b, 'dynamic', DEFAULT_GRADIENT_VARIANTS, 'conf');
  b.input('conf', ['n', 'p', classes]);
  b.input('loc', ['n', 'p', 4]);
  b.input('labels', ['n', 'p'], TensorDataType.INT64);
  b.input('gt', ['n', 'p', 4]);
  const loss = emitMultiboxLoss(
    ctx,
    {
      confidences: 'conf',
      locations: 'loc',
      labels: 'labels',
      gtLocations: 'gt',
      numClasses: classes,
      negPosRatio: 3,
    },
    true,
  );
  b.node('Identity', [loss.regression], 'regression');
  b.node('Identity', [loss.classification], 'classification');
  b.node('Identity', [loss.gradients!.confidences], 'd_conf');
  b.node('Identity', [loss.gradients!.locations], 'd_loc');
  b.output('regression', []);
  b.output('classification', []);
  b.output('d_conf', ['n', 'p', classes]);
  b.output('d_loc', ['n', 'p', 4]);
  const session = await ort.InferenceSession.create(b.build({ name: 'loss-test', opset: 17 }), {
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
  });
  sessions.set(classes, session);
  return session;
}

async function runLoss(x: LossBatch): Promise<LossResult> {
  const session = await lossSession(x.classes);
  const { n, priors: p, classes: c } = x;
  const out = await session.run({
    conf: new ort.Tensor('float32', Float32Array.from(x.conf), [n, p, c]),
    loc: new ort.Tensor('float32', Float32Array.from(x.loc), [n, p, 4]),
    labels: new ort.Tensor('int64', x.labels, [n, p]),
    gt: new ort.Tensor('float32', Float32Array.from(x.gt), [n, p, 4]),
  });
  return {
    regression: (out.regression.data as Float32Array)[0],
    classification: (out.classification.data as Float32Array)[0],
    dConf: out.d_conf.data as Float32Array,
    dLoc: out.d_loc.data as Float32Array,
  };
}

function reference(x: LossBatch): ReturnType<typeof multiboxLoss64> {
  return multiboxLoss64(x.conf, x.loc, x.labels, x.gt, { n: x.n, priors: x.priors, classes: x.classes });
}

/** Random batch; `positives[i]` positive priors in image i, at spread-out indices, random classes ≥ 1. */
function makeBatch(seed: number, priors: number, classes: number, positives: readonly number[]): LossBatch {
  const rand = random(seed);
  const n = positives.length;
  const labels = new BigInt64Array(n * priors);
  positives.forEach((count, i) => {
    for (let j = 0; j < count; j++) {
      labels[i * priors + ((j * 7 + i * 3) % priors)] = BigInt(1 + Math.floor(rand(0, classes - 1)));
    }
  });
  return {
    n,
    priors,
    classes,
    conf: Float64Array.from({ length: n * priors * classes }, () => rand(-3, 3)),
    loc: Float64Array.from({ length: n * priors * 4 }, () => rand(-2, 2)),
    labels,
    gt: Float64Array.from({ length: n * priors * 4 }, () => rand(-2, 2)),
  };
}

async function expectMatchesReference(x: LossBatch): Promise<void> {
  const ours = await runLoss(x);
  const ref = reference(x);
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
  assert.ok(
    rel(ours.regression, ref.regression) <= 1e-5,
    `regression ${ours.regression} vs ${ref.regression}`,
  );
  assert.ok(
    rel(ours.classification, ref.classification) <= 1e-5,
    `classification ${ours.classification} vs ${ref.classification}`,
  );
  const total = (): number => {
    const r = reference(x);
    return r.regression + r.classification;
  };
  const dConf = relativeL2(ours.dConf, finiteDifferences(x.conf, total, 1e-6));
  const dLoc = relativeL2(ours.dLoc, finiteDifferences(x.loc, total, 1e-6));
  assert.ok(dConf <= 1e-3, `d confidences: relative L2 error ${dConf}`);
  assert.ok(dLoc <= 1e-3, `d locations: relative L2 error ${dLoc}`);
  if (process.env.TRAIN_TEST_VERBOSE)
    console.log(`dConf ${dConf.toExponential(2)} dLoc ${dLoc.toExponential(2)}`);
}

/** Priors whose confidence gradient is non-zero: positives and mined negatives. */
function usedPriors(ours: LossResult, n: number, priors: number, classes: number): Set<number> {
  const used = new Set<number>();
  for (let r = 0; r < n * priors; r++) {
    for (let c = 0; c < classes; c++) if (ours.dConf[r * classes + c] !== 0) used.add(r);
  }
  return used;
}

describe('MultiBox loss graph (SPEC §5.4–§5.5)', () => {
  before(async () => {
    await lossSession(2);
  });
  after(async () => {
    for (const s of sessions.values()) await s.release();
  });

  it('2 classes: values, gradients; an image without positives mines nothing', async () => {
    await expectMatchesReference(makeBatch(1, 40, 2, [4, 1, 0]));
  });

  it('3 classes (masked-face model)', async () => {
    await expectMatchesReference(makeBatch(2, 30, 3, [3, 5]));
  });

  it('more negatives asked for than exist: every prior is used', async () => {
    const x = makeBatch(3, 12, 2, [5, 1]); // image 0 wants 15 negatives of 7
    await expectMatchesReference(x);
    const used = usedPriors(await runLoss(x), x.n, x.priors, x.classes);
    for (let p = 0; p < 12; p++) assert.ok(used.has(p), `prior ${p} of image 0`);
    assert.equal([...used].filter((r) => r >= 12).length, 4); // image 1: 1 positive + 3 negatives
  });

  it('mines exactly 3 negatives per positive, the highest background losses, ties to the lower prior index', async () => {
    const priors = 20;
    const x = makeBatch(4, priors, 2, [2, 1]);
    x.conf.fill(0); // every background loss equal (log 2): a full tie
    x.conf[(priors + 15) * 2 + 1] = 2; // image 1, prior 15: the hardest negative
    const used = usedPriors(await runLoss(x), x.n, priors, 2);
    // image 0: positives 0 and 7, negatives 1–6 (the 6 lowest free indices); image 1: positive 3, then the
    // hardest negative 15 and the two lowest free indices 0, 1
    const expected = [0, 1, 2, 3, 4, 5, 6, 7, ...[0, 1, 3, 15].map((p) => priors + p)];
    assert.deepEqual(
      [...used].sort((a, b) => a - b),
      expected,
    );
    assert.deepEqual(
      [...reference(x).mask.keys()].filter((r) => reference(x).mask[r]),
      expected,
    );
  });

  it('no positives in the batch: losses 0 and gradients 0 (num_pos guarded by max(num_pos, 1))', async () => {
    const ours = await runLoss(makeBatch(5, 16, 2, [0, 0]));
    assert.equal(ours.regression, 0);
    assert.equal(ours.classification, 0);
    assert.ok(ours.dConf.every((v) => v === 0));
    assert.ok(ours.dLoc.every((v) => v === 0));
  });

  it('targets of background priors are never read (NaN there does not leak)', async () => {
    const x = makeBatch(6, 16, 2, [2, 1]);
    for (let r = 0; r < x.n * x.priors; r++) if (x.labels[r] === 0n) x.gt.fill(NaN, r * 4, r * 4 + 4);
    const ours = await runLoss(x);
    assert.ok(Number.isFinite(ours.regression) && Number.isFinite(ours.classification));
    assert.ok(ours.dLoc.every(Number.isFinite));
  });

  it('property: random batches (N 1–4, P 5–60) match the float64 reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 5, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
        async (seed, priors, positives) => {
          await expectMatchesReference(
            makeBatch(
              seed,
              priors,
              2,
              positives.map((k) => Math.min(k, priors)),
            ),
          );
        },
      ),
      { seed: 20261129, numRuns: 40 },
    );
  });
});
