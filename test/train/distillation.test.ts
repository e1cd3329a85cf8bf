import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { IGNORE_LABEL } from '../../src/core/matching.js';
import { trainingSamplesFromVoc, type TrainingSample } from '../../src/data/training-set.js';
import { readVocDataset } from '../../src/data/voc.js';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { networkSize } from '../../src/core/presets.js';
import { generatePriors } from '../../src/core/priors.js';
import {
  closeImages,
  distillationMask,
  ignoreTeacherFaces,
  imagesFromDatasets,
  priorsUpTo,
} from '../../src/train/teacher.js';
import { train, type EpochRecord, type StepRecord, type TrainConfig } from '../../src/train/trainer.js';
import { sharedPath } from '../helpers/shared.js';
import { tinyConfig } from './helpers/tiny.js';

/**
 * Distillation in the trainer (issue #15, point 7), on the tiny preset: a slim student at 128x96 learns from
 * upstream's slim-320 weights run at the same size (same priors), on 8 faces-voc photos.
 */
const TEACHER = sharedPath('reference/upstream/models/pretrained/version-slim-320.pth');

const TINY = tinyConfig({
  epochs: 30,
  schedule: { kind: 'multi-step', lr: 0.02, milestones: [1000], warmupSteps: 5 },
  distillation: { teacher: TEACHER, weights: { classification: 1, regression: 1 }, ignoreThreshold: 0.5 },
});

describe('train with a distillation teacher', () => {
  let samples: TrainingSample[];
  let dir: string;
  before(async () => {
    const dataset = await readVocDataset(sharedPath('data/faces-voc'), { split: 'test' });
    samples = trainingSamplesFromVoc(dataset).slice(0, 8);
    dir = mkdtempSync(join(tmpdir(), 'ultraface-distill-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the student moves towards the teacher (the KL falls 3x, the box term 1.5x); the run records and resumes the teacher', async () => {
    const steps: StepRecord[] = [];
    const out = join(dir, 'run');
    const first = await train({
      config: TINY,
      samples,
      outDir: out,
      threads: 1,
      maxSteps: 20,
      hooks: { onStep: (s) => steps.push(s) },
    });
    assert.equal(first.finished, false);
    const saved = decodeCheckpoint<{ config: TrainConfig }>(readFileSync(join(out, 'last.ckpt')));
    assert.deepEqual(saved.state.config.distillation, TINY.distillation);
    // resumed without passing the teacher again: it comes from the checkpoint
    await train({
      config: { ...TINY, distillation: undefined },
      samples,
      outDir: out,
      threads: 1,
      resume: true,
      hooks: { onStep: (s) => steps.push(s) },
    });
    assert.equal(steps.length, 30);
    assert.ok(steps.every((s) => s.distillation && (s.teacherMs ?? -1) >= 0));
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const early = steps.slice(0, 3);
    const late = steps.slice(-3);
    for (const [term, factor] of [
      ['classification', 3],
      ['regression', 1.5],
    ] as const) {
      const a = mean(early.map((s) => s.distillation![term]));
      const b = mean(late.map((s) => s.distillation![term]));
      assert.ok(b < a / factor, `distillation ${term}: ${a} → ${b}`);
    }
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as EpochRecord[];
    assert.ok(history.every((h) => h.distillation !== undefined));
  });

  it('with datasets, only their images are taught: no distillation term and no teacher-ignored prior elsewhere', async () => {
    const steps: StepRecord[] = [];
    // Every sample is of dataset 0 (no index given); the teacher is kept to dataset 1.
    const config = { ...TINY, distillation: { ...TINY.distillation!, datasets: [1] } };
    await train({
      config,
      samples,
      outDir: join(dir, 'other-dataset'),
      threads: 1,
      maxSteps: 2,
      hooks: { onStep: (s) => steps.push(s) },
    });
    assert.equal(steps.length, 2);
    for (const s of steps) {
      const terms = s.distillation;
      assert.ok(terms?.regression === 0 && terms.classification === 0, JSON.stringify(terms));
    }
  });

  it('imagesFromDatasets marks the images of the listed datasets; the ignore and the mask leave the others alone', () => {
    const samples = [{ dataset: 0 }, { dataset: 1 }, {}] as unknown as TrainingSample[];
    const taught = imagesFromDatasets(Int32Array.from([1, 2, 0]), samples, [1]);
    assert.deepEqual(Array.from(taught), [1, 0, 0]);
    assert.deepEqual(Array.from(imagesFromDatasets(Int32Array.from([1, 2]), samples, undefined)), [1, 1]);
    // Two priors per image, three images; the teacher calls every prior a face.
    const labels = new Int32Array(6);
    const scores = new Float32Array(12).fill(0.1);
    assert.equal(ignoreTeacherFaces(labels, scores, 2, 0.5, taught), 2);
    assert.deepEqual(Array.from(labels), [IGNORE_LABEL, IGNORE_LABEL, 0, 0, 0, 0]);
    const priors = Float32Array.from([0.2, 0.2, 0.2, 0.2, 0.8, 0.8, 0.2, 0.2]);
    const none = [new Float32Array(0), new Float32Array(0), new Float32Array(0)];
    const noLabels = [new Int32Array(0), new Int32Array(0), new Int32Array(0)];
    const mask = distillationMask(new Int32Array(6), none, noLabels, priors, { annotatedIou: 0.3, taught });
    assert.deepEqual(Array.from(mask), [1, 1, 0, 0, 0, 0]);
    // positives of untaught images stay closed even when positives are opened
    const positives = Int32Array.from([1, 0, 1, 0, 1, 0]);
    const open = distillationMask(positives, none, noLabels, priors, { taught, positives: true });
    assert.deepEqual(Array.from(open), [1, 1, 0, 0, 0, 0]);
  });

  it('teacher faces on background priors become ignored; positives and other priors stay', () => {
    const labels = Int32Array.from([0, 0, 1, 0, IGNORE_LABEL]);
    // [P, 2] background, face
    const scores = Float32Array.from([0.2, 0.8, 0.6, 0.4, 0.1, 0.9, 0.5, 0.5, 0.9, 0.1]);
    assert.equal(ignoreTeacherFaces(labels, scores, 2, 0.5), 2);
    assert.deepEqual(Array.from(labels), [IGNORE_LABEL, 0, 1, IGNORE_LABEL, IGNORE_LABEL]);
  });

  it('distillationMask: open everywhere but the positives, and with annotatedIou around annotated faces', () => {
    // Four priors (cx, cy, w, h): on the face, shifted by half a face, far away, and on an ignore region.
    const priors = Float32Array.from([
      0.2, 0.2, 0.2, 0.2, 0.3, 0.2, 0.2, 0.2, 0.8, 0.8, 0.2, 0.2, 0.6, 0.2, 0.2, 0.2,
    ]);
    const labels = Int32Array.from([1, 0, 0, IGNORE_LABEL]);
    const boxes = [Float32Array.from([0.1, 0.1, 0.3, 0.3, 0.5, 0.1, 0.7, 0.3])]; // a face, an ignore region
    const boxLabels = [Int32Array.from([1, IGNORE_LABEL])];
    const mask = (options: Parameters<typeof distillationMask>[4]): number[] =>
      Array.from(distillationMask(labels, boxes, boxLabels, priors, options));
    assert.deepEqual(mask({}), [0, 1, 1, 1]);
    // The shifted prior overlaps the face at IoU 0.02 / 0.06 = 1/3: left to the annotation at 0.3, not at 0.4.
    assert.deepEqual(mask({ annotatedIou: 0.3 }), [0, 0, 1, 1]);
    assert.deepEqual(mask({ annotatedIou: 0.4 }), [0, 1, 1, 1]);
    // Positives opened for the box term: every prior open; refused together with annotatedIou.
    assert.deepEqual(mask({ positives: true }), [1, 1, 1, 1]);
    assert.throws(() => mask({ positives: true, annotatedIou: 0.3 }), /annotatedIou/);
  });

  it('priorsUpTo: the box term reaches the first level (10, 16, 24 px), or the 10 and 16 px priors of it', () => {
    // RFB at 320x240: the first level is a 40x30 map with three priors a cell (SPEC §3), listed first
    const priors = generatePriors(networkSize(320, 240));
    const widths = (mask: Float32Array): number[] => [
      ...new Set(
        Array.from(mask.entries())
          .filter(([, v]) => v === 1)
          .map(([p]) => Math.round(priors[4 * p + 2] * 320)),
      ),
    ];
    const level = priorsUpTo(priors, 320, 24);
    assert.equal(
      level.reduce((a, v) => a + v, 0),
      40 * 30 * 3,
    );
    assert.deepEqual(Array.from(level.subarray(0, 3600)), new Array(3600).fill(1));
    assert.deepEqual(widths(level), [10, 16, 24]);
    const smaller = priorsUpTo(priors, 320, 16);
    assert.equal(
      smaller.reduce((a, v) => a + v, 0),
      40 * 30 * 2,
    );
    assert.deepEqual(widths(smaller), [10, 16]);
    assert.equal(
      priorsUpTo(priors, 320, 9).reduce((a, v) => a + v, 0),
      0,
    );
    assert.equal(
      priorsUpTo(priors, 320, 1000).reduce((a, v) => a + v, 0),
      priors.length / 4,
    );
  });

  it('closeImages closes the unmarked images of a mask and leaves the mask itself alone', () => {
    const mask = Float32Array.from([1, 0, 1, 1, 1, 0]); // [N = 3, P = 2]
    assert.deepEqual(Array.from(closeImages(mask, Uint8Array.from([1, 0, 1]))), [1, 0, 0, 0, 1, 0]);
    assert.deepEqual(Array.from(mask), [1, 0, 1, 1, 1, 0]);
  });
});
