import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { trainingSamplesFromVoc, type TrainingSample } from '../../src/data/training-set.js';
import { readVocDataset } from '../../src/data/voc.js';
import { evaluateVocAp } from '../../src/eval/voc-ap.js';
import { createFaceDetector } from '../../src/runtime/node/detector.js';
import { decodeCheckpoint, type Checkpoint } from '../../src/train/checkpoint.js';
import { train, type EpochRecord, type StepRecord, type TrainConfig } from '../../src/train/trainer.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { tinyTrainArgs } from '../helpers/train-cli.js';
import { tinyConfig } from './helpers/tiny.js';

/** The tiny preset (STYLE.md §12): slim at 128x96 on 8 faces-voc photos, no augmentation. */
const TINY = tinyConfig();

describe('train', () => {
  let samples: TrainingSample[];
  let dir: string;
  before(async () => {
    const dataset = await readVocDataset(sharedPath('data/faces-voc'), { split: 'test' });
    samples = trainingSamplesFromVoc(dataset).slice(0, 8);
    dir = mkdtempSync(join(tmpdir(), 'ultraface-train-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('tiny preset: overfits 8 photos, then finds their faces (AP50 ≥ 0.9)', async () => {
    const losses: number[] = [];
    const result = await train({
      config: TINY,
      samples,
      outDir: join(dir, 'tiny'),
      hooks: { onStep: (s) => losses.push(s.lossRegression + s.lossClassification) },
    });
    assert.ok(result.finished && result.modelPath);
    const first = losses[0];
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    assert.ok(last < first / 10, `loss ${first} → ${last}`);

    const detector = await createFaceDetector({
      model: result.modelPath,
      scoreThreshold: 0.1,
      candidateSize: 800,
      topK: 400,
    });
    const faces = await detector.detectBatch(samples.map((s) => s.image as string));
    await detector.dispose();
    const { ap } = evaluateVocAp(
      samples.map((s, i) => ({
        groundTruth: s.boxes,
        boxes: faces[i].flatMap((f) => [f.box.x1, f.box.y1, f.box.x2, f.box.y2]),
        scores: faces[i].map((f) => f.score),
      })),
    );
    assert.ok(ap >= 0.9, `AP50 ${ap}`);
    const history = JSON.parse(readFileSync(join(dir, 'tiny', 'history.json'), 'utf8')) as unknown[];
    assert.equal(history.length, 80);
  });

  for (const engine of [
    { threads: 1, shards: 1 },
    { threads: 2, shards: 2 },
  ]) {
    it(`resumes from a checkpoint with the same batches and the same next losses (${engine.shards} shard(s))`, async () => {
      const config: TrainConfig = {
        ...TINY,
        epochs: 3,
        batchSize: 4,
        augment: 'default',
        checkpointEvery: 1,
      };
      const run = async (
        outDir: string,
        options: { maxSteps?: number; resume?: boolean },
      ): Promise<StepRecord[]> => {
        const steps: StepRecord[] = [];
        await train({
          config,
          samples,
          outDir,
          ...engine,
          ...options,
          hooks: { onStep: (s) => steps.push(s) },
        });
        return steps;
      };
      const losses = (steps: StepRecord[]): number[][] =>
        steps.map((s) => [s.epoch, s.batch, s.lossRegression, s.lossClassification, s.lr]);
      const out = join(dir, `shards-${engine.shards}`);
      const straight = await run(join(out, 'straight'), {});
      const firstPart = await run(join(out, 'resumed'), { maxSteps: 3 });
      const interrupted = decodeCheckpoint<{ epochSums: { seconds: number } }>(
        readFileSync(join(out, 'resumed', 'last.ckpt')),
      ).state.epochSums.seconds;
      const secondPart = await run(join(out, 'resumed'), { resume: true });
      assert.equal(straight.length, 6);
      // bit-identical: every session runs on one onnxruntime thread
      assert.deepEqual(losses([...firstPart, ...secondPart]), losses(straight));

      // The interrupted epoch's time counts both parts: the step before the interruption and the one after.
      const history = JSON.parse(readFileSync(join(out, 'resumed', 'history.json'), 'utf8')) as EpochRecord[];
      const resumedStepSeconds = config.batchSize / secondPart[0].imagesPerSecond;
      assert.ok(interrupted > 0);
      assert.ok(
        history[1].seconds >= interrupted + resumedStepSeconds - 1e-3,
        `${history[1].seconds} s < ${interrupted} s + ${resumedStepSeconds} s`,
      );
    });
  }

  it('trainOnly: only the layers under its prefixes move, weights and BatchNorm statistics; a bad prefix is refused', async () => {
    const trainOnly = ['base_net.7', 'classification_headers.0'];
    const config: TrainConfig = { ...TINY, epochs: 1, batchSize: 4, checkpointEvery: 1, trainOnly };
    const out = join(dir, 'train-only');
    const tensorsAfter = async (
      maxSteps: number,
      resume: boolean,
    ): Promise<Checkpoint<unknown>['tensors']> => {
      await train({ config, samples, outDir: out, maxSteps, resume });
      return decodeCheckpoint(readFileSync(join(out, 'last.ckpt'))).tensors;
    };
    const before = await tensorsAfter(1, false);
    const later = await tensorsAfter(2, true);
    const moved = (name: string): boolean => {
      const [a, b] = [before.get(name)!.data, later.get(name)!.data];
      return a.some((v, i) => v !== b[i]);
    };
    const weights = [...before.keys()].filter(
      (name) => !name.startsWith('momentum:') && !name.endsWith('_tracked'),
    );
    const inside = weights.filter((name) => trainOnly.some((p) => name.startsWith(`${p}.`)));
    const outside = weights.filter((name) => !inside.includes(name));
    assert.ok(inside.some((name) => name.endsWith('.running_var')) && outside.length > 50);
    assert.deepEqual(
      inside.filter((name) => !moved(name)),
      [],
    );
    assert.deepEqual(outside.filter(moved), []);

    await assert.rejects(
      train({
        config: { ...config, trainOnly: ['base_net.7', 'no_such_layer'] },
        samples,
        outDir: join(dir, 'bad'),
      }),
      { code: 'E_INVALID_OPTION', message: /no parameter is under no_such_layer/ },
    );
  });

  it("ultraface train survives SIGKILL: the resumed run ends in the uninterrupted run's state", async () => {
    const args = (out: string): string[] => [
      '--import',
      'tsx',
      'src/cli/main.ts',
      ...tinyTrainArgs(out, ['--checkpoint-every', '2', '--seed', '3'], { batchSize: 8, maxSteps: 6 }),
    ];
    type State = { epochSums: { seconds?: number }; history: EpochRecord[] };
    const checkpoint = (out: string): Checkpoint<State> =>
      decodeCheckpoint<State>(readFileSync(join(out, 'last.ckpt')));
    // wall-clock times are the only part of the state a resume may change
    const withoutTimes = (state: State): unknown => ({
      ...state,
      epochSums: { ...state.epochSums, seconds: undefined },
      history: state.history.map((record) => ({ ...record, seconds: undefined })),
    });
    const straight = join(dir, 'cli-straight');
    assert.equal((await runCli(args(straight).slice(3))).code, 0);

    // Kill the second run as soon as its first checkpoint exists, then resume it.
    const killed = join(dir, 'cli-killed');
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(join(killed, 'last.ckpt'))) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    assert.equal((await runCli([...args(killed).slice(3), '--resume'])).code, 0);
    const [a, b] = [checkpoint(killed), checkpoint(straight)];
    assert.deepEqual(withoutTimes(a.state), withoutTimes(b.state));
    assert.deepEqual([...a.tensors], [...b.tensors]);
  });
});
