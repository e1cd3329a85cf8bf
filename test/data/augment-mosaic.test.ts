/**
 * Mosaic augmentation (src/data/augment/mosaic.ts): options, the plan, where photos and boxes land, and the batch
 * builder's partners — deterministic for any worker count, and probability 0 the same bytes as no mosaic.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { isUltrafaceError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import { IGNORE_LABEL } from '../../src/core/matching.js';
import { createRandom } from '../../src/core/random.js';
import {
  AUGMENT_PRESETS,
  createAugmenter,
  resolveAugmentOptions,
  type AugmentOptionsInput,
  type AugmentSample,
  type MosaicPlan,
} from '../../src/data/augment/index.js';
import { createBatchSource, type BatchSourceOptions } from '../../src/data/batches.js';
import { STREAM_AUGMENT, type TrainingBatch, type TrainingSample } from '../../src/data/training-set.js';
import { runCli } from '../helpers/cli.js';
import { digest, syntheticSamples } from './helpers/batches.js';

const OFF = { photometric: null, expand: null, crop: null, mirrorProbability: 0, resize: 'float' } as const;

/** A W x H photo of one colour with faces painted in another (both uniform, so a 2x reduction keeps them exact). */
function photo(
  width: number,
  height: number,
  background: readonly number[],
  face: readonly number[],
  boxes: readonly number[],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(background, 3 * i);
  for (let b = 0; b < boxes.length; b += 4) {
    for (let y = boxes[b + 1]; y < boxes[b + 3]; y++) {
      for (let x = boxes[b]; x < boxes[b + 2]; x++) data.set(face, 3 * (y * width + x));
    }
  }
  return { data, width, height, channels: 3 };
}

/** The output pixel (x, y) back in 0..255 levels. */
function levels(image: Float32Array, width: number, height: number, x: number, y: number): number[] {
  return [0, 1, 2].map((c) => image[c * width * height + y * width + x] * 128 + 127);
}

describe('mosaic options', () => {
  it('off in every preset; `{}` starts from probability 0.25; frozen; JSON round trip', () => {
    for (const preset of Object.values(AUGMENT_PRESETS)) assert.equal(preset.mosaic, null);
    const defaults = resolveAugmentOptions({ mosaic: {} });
    assert.deepEqual(defaults.mosaic, { probability: 0.25 });
    const options = resolveAugmentOptions({ preset: 'upstream', mosaic: { probability: 0.3 } });
    assert.deepEqual(options.mosaic, { probability: 0.3 });
    assert.ok(Object.isFrozen(options.mosaic));
    assert.equal(options.photometric, AUGMENT_PRESETS.upstream.photometric);
    assert.deepEqual(resolveAugmentOptions(options), options);
    const json = JSON.parse('{"preset": "default", "mosaic": {"probability": 0.5}}') as AugmentOptionsInput;
    assert.deepEqual(resolveAugmentOptions(json).mosaic, { probability: 0.5 });
    assert.equal(resolveAugmentOptions({ ...options, mosaic: null }).mosaic, null);
  });

  it('rejects a bad mosaic with E_INVALID_OPTION in the house format', () => {
    for (const [mosaic, message] of [
      [
        { probability: 1.5 },
        'Expected a number between 0 and 1 for augment.mosaic.probability but received 1.5',
      ],
      [
        { probability: '0.5' },
        'Expected a number between 0 and 1 for augment.mosaic.probability but received "0.5"',
      ],
      [
        { probability: -0.1 },
        'Expected a number between 0 and 1 for augment.mosaic.probability but received -0.1',
      ],
      [0.5, 'Expected an object or null for augment.mosaic but received 0.5'],
      [{ chance: 0.5 }, 'Unknown option "chance" in augment.mosaic; expected some of: probability'],
    ] as const) {
      assert.throws(
        () => resolveAugmentOptions({ mosaic } as unknown as AugmentOptionsInput),
        (e) => isUltrafaceError(e, 'E_INVALID_OPTION') && e.message === message,
        JSON.stringify(mosaic),
      );
    }
  });

  it('`ultraface train --augment file.json` rejects a bad mosaic before touching the run folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ultraface-mosaic-cli-'));
    try {
      const file = join(dir, 'mosaic.json');
      await writeFile(file, '{"mosaic": {"probability": 2}}');
      const out = join(dir, 'run');
      const args = ['train', '--dataset', dir, '--augment', file, '-o', out];
      const result = await runCli(args);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /E_INVALID_OPTION.*augment\.mosaic\.probability/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mosaic plan', () => {
  const augmenter = createAugmenter({ ...OFF, mosaic: { probability: 1 } }, { width: 32, height: 24 });

  it('partners: three distinct other samples; quarters: a permutation; the Random is not advanced', () => {
    const seen = new Set<number>();
    for (let index = 0; index < 200; index++) {
      const random = createRandom(3, STREAM_AUGMENT, 0, index);
      const before = random.getState();
      const plan = augmenter.planMosaic(random, index % 10, 10);
      assert.ok(plan !== null);
      assert.deepEqual(random.getState(), before);
      assert.deepEqual(augmenter.planMosaic(random, index % 10, 10), plan, 'a pure function of the state');
      assert.equal(new Set(plan.partners).size, 3);
      for (const partner of plan.partners) {
        assert.ok(Number.isInteger(partner) && partner >= 0 && partner < 10 && partner !== index % 10);
        seen.add(partner);
      }
      assert.deepEqual([...plan.quarters].sort(), [0, 1, 2, 3]);
    }
    assert.equal(seen.size, 10);
  });

  it('tiny data sets repeat partners; off or probability 0 plans nothing; p is the share of mosaics', () => {
    assert.deepEqual(augmenter.planMosaic(createRandom(1), 0, 1)?.partners, [0, 0, 0]);
    assert.deepEqual(augmenter.planMosaic(createRandom(1), 0, 2)?.partners, [1, 1, 1]);
    for (const partner of augmenter.planMosaic(createRandom(1), 1, 3)?.partners ?? [])
      assert.notEqual(partner, 1);
    const off = createAugmenter('default', { width: 32, height: 24 });
    const never = createAugmenter({ mosaic: { probability: 0 } }, { width: 32, height: 24 });
    const some = createAugmenter({ mosaic: { probability: 0.3 } }, { width: 32, height: 24 });
    let count = 0;
    for (let index = 0; index < 2000; index++) {
      const random = createRandom(8, index);
      assert.equal(off.planMosaic(random, index, 2000), null);
      assert.equal(never.planMosaic(random, index, 2000), null);
      if (some.planMosaic(random, index, 2000) !== null) count++;
    }
    assert.ok(Math.abs(count / 2000 - 0.3) < 0.04, `${count} mosaics in 2000`);
    assert.throws(
      () => augmenter.planMosaic(createRandom(1), 5, 5),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });
});

describe('mosaic composition', () => {
  // Four 64x48 photos, each its own colours, on a 64x48 output: every quarter is an exact 2x reduction.
  const colours = [
    [
      [200, 10, 10],
      [250, 20, 7],
    ],
    [
      [10, 200, 10],
      [250, 40, 7],
    ],
    [
      [10, 10, 200],
      [250, 60, 7],
    ],
    [
      [90, 90, 90],
      [250, 80, 7],
    ],
  ] as const;
  const boxes = [
    [8, 8, 24, 24],
    [30, 10, 50, 30, 2, 20, 12, 40],
    [40, 4, 60, 44],
    [0, 0, 16, 16],
  ];
  const labels = [[1], [2, IGNORE_LABEL], [3], [4]];
  const photos: AugmentSample[] = boxes.map((b, k) => ({
    image: photo(64, 48, colours[k][0], colours[k][1], b),
    boxes: b,
    labels: labels[k],
  }));
  const plan: MosaicPlan = { partners: [7, 8, 9], quarters: [2, 0, 3, 1] };

  it('each photo fills its quarter at half size; its boxes land in that quarter at half size, in photo order', () => {
    const augmenter = createAugmenter({ ...OFF, mosaic: { probability: 1 } }, { width: 64, height: 48 });
    const result = augmenter.augment(
      { ...photos[0], mosaic: { plan, partners: [photos[1], photos[2], photos[3]] } },
      createRandom(1),
    );
    const expectedBoxes: number[] = [];
    photos.forEach((p, k) => {
      const qx = (plan.quarters[k] & 1) * 32;
      const qy = (plan.quarters[k] >> 1) * 24;
      for (let b = 0; b < p.boxes.length; b += 4) {
        expectedBoxes.push(
          (qx + p.boxes[b] / 2) / 64,
          (qy + p.boxes[b + 1] / 2) / 48,
          (qx + p.boxes[b + 2] / 2) / 64,
          (qy + p.boxes[b + 3] / 2) / 48,
        );
      }
      // Every output pixel of the quarter shows this photo at half size: face colour inside its halved boxes,
      // background elsewhere (uniform colours, so the 2x2 averages are exact at all but the boxes' odd edges).
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 32; x++) {
          const source = [2 * x, 2 * y];
          let inFace = false;
          let edge = false;
          for (let b = 0; b < p.boxes.length; b += 4) {
            const inside = (sx: number, sy: number): boolean =>
              sx >= p.boxes[b] && sx < p.boxes[b + 2] && sy >= p.boxes[b + 1] && sy < p.boxes[b + 3];
            const corners = [0, 1, 2, 3].map((c) => inside(source[0] + (c & 1), source[1] + (c >> 1)));
            if (corners.every(Boolean)) inFace = true;
            else if (corners.some(Boolean)) edge = true;
          }
          if (edge) continue;
          const expected = inFace ? colours[k][1] : colours[k][0];
          assert.deepEqual(
            levels(result.image, 64, 48, qx + x, qy + y),
            [...expected],
            `photo ${k} at ${x},${y}`,
          );
        }
      }
    });
    // Within 1e-6 (a float32 ulp here): the quarter's boxes are rounded to float32 before they are placed.
    assert.equal(result.boxes.length, expectedBoxes.length);
    expectedBoxes.forEach((v, i) => {
      assert.ok(Math.abs(result.boxes[i] - v) < 1e-6, `box value ${i}: ${result.boxes[i]} vs ${v}`);
    });
    assert.deepEqual(Array.from(result.labels), [1, 2, IGNORE_LABEL, 3, 4]);
    assert.equal(result.applied.mosaic?.plan, plan);
    assert.equal(result.applied.mosaic.partners.length, 3);
    assert.equal(result.applied.mosaic.partners[0].mosaic, null);
  });

  it('faces half as large: the same photos alone vs in a mosaic, any size, odd outputs, minFaceSize', () => {
    const out = { width: 33, height: 25 }; // quarters 16 or 17 wide, 12 or 13 high
    const options = { ...OFF, minFaceSize: 6 };
    const alone = createAugmenter(options, out);
    const mosaic = createAugmenter({ ...options, mosaic: { probability: 1 } }, out);
    const odd: AugmentSample[] = [
      {
        image: photo(50, 40, [1, 2, 3], [200, 200, 200], [5, 5, 25, 35]),
        boxes: [5, 5, 25, 35],
        labels: [1],
      },
      { image: photo(20, 90, [9, 9, 9], [100, 0, 0], [0, 0, 20, 90]), boxes: [0, 0, 20, 90], labels: [1] },
      photos[1],
      photos[2],
    ];
    const tensor = new Float32Array(2 + 3 * 33 * 25).fill(NaN);
    const result = mosaic.augment(
      { ...odd[0], mosaic: { plan, partners: [odd[1], odd[2], odd[3]] } },
      createRandom(2),
      { tensor, offset: 1 },
    );
    assert.ok(tensor.subarray(1, 1 + 3 * 33 * 25).every(Number.isFinite), 'every output pixel written');
    assert.ok(Number.isNaN(tensor[0]) && Number.isNaN(tensor[tensor.length - 1]), 'nothing outside');
    const expectedBoxes: number[] = [];
    const expectedLabels: number[] = [];
    odd.forEach((p, k) => {
      const q = plan.quarters[k];
      const rect = {
        x: q & 1 ? 16 : 0,
        y: q >> 1 ? 12 : 0,
        width: q & 1 ? 17 : 16,
        height: q >> 1 ? 13 : 12,
      };
      const single = alone.augment(p, createRandom(0));
      for (let b = 0; b < single.boxes.length; b += 4) {
        const [x1, y1, x2, y2] = single.boxes.subarray(b, b + 4);
        expectedBoxes.push(
          (rect.x + x1 * rect.width) / 33,
          (rect.y + y1 * rect.height) / 25,
          (rect.x + x2 * rect.width) / 33,
          (rect.y + y2 * rect.height) / 25,
        );
        // Faces under 6 output pixels become ignore regions, measured at their mosaic size.
        const small = (x2 - x1) * rect.width < 6 || (y2 - y1) * rect.height < 6;
        expectedLabels.push(small ? IGNORE_LABEL : p.labels[b / 4]);
      }
    });
    const got = Array.from(result.boxes);
    expectedBoxes.forEach((v, i) => {
      assert.ok(Math.abs(got[i] - v) < 1e-6, `box value ${i}: ${got[i]} vs ${v}`);
    });
    assert.equal(got.length, expectedBoxes.length);
    assert.deepEqual(Array.from(result.labels), expectedLabels);
    assert.ok(expectedLabels.includes(IGNORE_LABEL) && expectedLabels.includes(1));
  });

  it('with the full default recipe every photo stays in its quarter, and the draws are reproducible', () => {
    const augmenter = createAugmenter(
      { preset: 'default', mosaic: { probability: 1 } },
      { width: 64, height: 48 },
    );
    for (let seed = 0; seed < 30; seed++) {
      const input = { ...photos[0], mosaic: { plan, partners: [photos[1], photos[2], photos[3]] } } as const;
      const result = augmenter.augment(input, createRandom(seed));
      const again = augmenter.augment(input, createRandom(seed));
      assert.deepEqual(again, result);
      for (let b = 0; b < result.boxes.length; b += 4) {
        // Labels 1..4 name the photo (the ignore region belongs to photo 2, label 2's neighbour).
        const label = result.labels[b / 4];
        const k = label === IGNORE_LABEL ? 1 : label - 1;
        const q = plan.quarters[k];
        const [x1, y1, x2, y2] = result.boxes.subarray(b, b + 4);
        const [qx, qy] = [(q & 1) / 2, (q >> 1) / 2];
        assert.ok(x1 >= qx && x2 <= qx + 0.5 && y1 >= qy && y2 <= qy + 0.5, `seed ${seed} box ${b / 4}`);
      }
    }
  });

  it('rejects a malformed mosaic with E_INVALID_INPUT', () => {
    const augmenter = createAugmenter(OFF, { width: 32, height: 24 });
    const partners = [photos[1], photos[2], photos[3]] as const;
    for (const mosaic of [
      { plan: { ...plan, quarters: [0, 1, 2, 2] as const }, partners },
      { plan, partners: [photos[1], photos[2]] as unknown as typeof partners },
      { plan, partners: [photos[1], photos[2], { ...photos[3], boxes: [1, 2, 3] }] as const },
    ]) {
      assert.throws(
        () => augmenter.augment({ ...photos[0], mosaic }, createRandom(1)),
        (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
      );
    }
    const tiny = createAugmenter(OFF, { width: 1, height: 24 });
    assert.throws(
      () => tiny.augment({ ...photos[0], mosaic: { plan, partners } }, createRandom(1)),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT') && /at least 2x2/.test(e.message),
    );
  });

  it('the undistorted copy is the same mosaic without the colour distortion', () => {
    const distort = {
      brightnessProbability: 1,
      contrastProbability: 1,
      saturationProbability: 1,
      hueProbability: 1,
      channelSwapProbability: 1,
    };
    const size = { width: 64, height: 48 };
    const input = { ...photos[0], mosaic: { plan, partners: [photos[1], photos[2], photos[3]] as const } };
    const tensor = new Float32Array(3 * 64 * 48);
    const undistorted = new Float32Array(3 * 64 * 48);
    createAugmenter(
      { ...OFF, mirrorProbability: 1, photometric: distort, mosaic: { probability: 1 } },
      size,
    ).augment(input, createRandom(4), { tensor, offset: 0, undistorted });
    const plain = createAugmenter({ ...OFF, mirrorProbability: 1, mosaic: { probability: 1 } }, size).augment(
      input,
      createRandom(4),
    );
    assert.deepEqual(undistorted, plain.image);
    assert.notDeepEqual(tensor, plain.image);
  });
});

async function collect(options: BatchSourceOptions, count: number): Promise<TrainingBatch[]> {
  const source = createBatchSource(options);
  try {
    const out: TrainingBatch[] = [];
    for (let i = 0; i < count; i++) out.push(await source.next());
    return out;
  } finally {
    await source.close();
  }
}

describe('mosaic in the batch source', () => {
  const samples = syntheticSamples(10);
  const base: BatchSourceOptions = { samples, inputSize: 128, batchSize: 4, seed: 5, workers: 0 };
  const mosaicAugment: AugmentOptionsInput = { preset: 'default', mosaic: { probability: 0.5 } };

  it('same seed → same bytes with 0 and 1 workers; mosaics change the batches', async () => {
    const reference = (await collect({ ...base, augment: mosaicAugment }, 5)).map(digest);
    assert.deepEqual(
      (await collect({ ...base, augment: mosaicAugment, workers: 1 }, 5)).map(digest),
      reference,
    );
    assert.deepEqual((await collect({ ...base, augment: mosaicAugment }, 5)).map(digest), reference);
    const plain = (await collect({ ...base, augment: 'default' }, 5)).map(digest);
    assert.notDeepEqual(plain, reference);
    // Some samples of these batches became mosaics, some did not.
    const augmenter = createAugmenter(mosaicAugment, { width: 128, height: 96 });
    const planned = [0, 1].flatMap((epoch) =>
      samples.map((_, i) => augmenter.planMosaic(createRandom(5, STREAM_AUGMENT, epoch, i), i, 10) !== null),
    );
    assert.ok(planned.includes(true) && planned.includes(false));
  });

  it('probability 0 gives the same bytes as no mosaic (0 and 1 workers)', async () => {
    const plain = (await collect({ ...base, augment: 'default' }, 4)).map(digest);
    for (const workers of [0, 1]) {
      const never = { preset: 'default', mosaic: { probability: 0 } } as const;
      assert.deepEqual((await collect({ ...base, augment: never, workers }, 4)).map(digest), plain);
    }
  });

  it('each mosaic holds its own faces, then its partners’, as planned (every face kept by "none")', async () => {
    const options = { preset: 'none', mosaic: { probability: 1 } } as const;
    const augmenter = createAugmenter(options, { width: 128, height: 96 });
    const single = createAugmenter('none', { width: 64, height: 48 });
    for (const batch of await collect({ ...base, augment: options }, 3)) {
      batch.sampleIndices.forEach((index, item) => {
        const plan = augmenter.planMosaic(createRandom(5, STREAM_AUGMENT, batch.epoch, index), index, 10);
        assert.ok(plan !== null);
        const faces = [index, ...plan.partners].reduce((sum, i) => sum + samples[i].labels.length, 0);
        assert.equal(batch.boxLabels[item].length, faces);
        // The sample's own faces come first, in its quarter, at half the size they have alone.
        const q = plan.quarters[0];
        const own = single.augment(samples[index] as AugmentSample, createRandom(0)).boxes;
        for (let b = 0; b < own.length; b += 4) {
          const got = batch.boxes[item].subarray(b, b + 4);
          const expected = [
            ((q & 1) * 64 + own[b] * 64) / 128,
            ((q >> 1) * 48 + own[b + 1] * 48) / 96,
            ((q & 1) * 64 + own[b + 2] * 64) / 128,
            ((q >> 1) * 48 + own[b + 3] * 48) / 96,
          ];
          expected.forEach((v, c) => {
            assert.ok(Math.abs(got[c] - v) < 1e-6);
          });
        }
      });
    }
  });

  describe('a partner that cannot be decoded', () => {
    let dir = '';
    let files: TrainingSample[] = [];
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ultraface-mosaic-'));
      const rgb = samples[0].image as RgbImage;
      const good = join(dir, 'good.png');
      await sharp(Buffer.from(rgb.data), { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
        .png()
        .toFile(good);
      const corrupt = join(dir, 'corrupt.jpg');
      await writeFile(corrupt, Buffer.from('\xff\xd8\xff\xe0 this is not a JPEG', 'latin1'));
      const face = { boxes: [2, 2, 20, 20], labels: [1] };
      // 4 samples: every mosaic's 3 distinct partners include the corrupt one.
      files = [
        { id: 'good-1', image: good, ...face },
        { id: 'good-2', image: good, ...face },
        { id: 'good-3', image: good, ...face },
        { id: 'corrupt', image: corrupt, ...face },
      ];
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fails the batch with E_DATASET naming it; with onBadImage the sample is used alone', async () => {
      const options: BatchSourceOptions = {
        samples: files,
        inputSize: 128,
        batchSize: 3,
        workers: 0,
        shuffle: false,
        augment: { preset: 'default', mosaic: { probability: 1 } },
      };
      await assert.rejects(
        collect(options, 1),
        (e) => isUltrafaceError(e, 'E_DATASET') && e.message.includes('corrupt.jpg'),
      );
      const reported: unknown[] = [];
      const [batch] = await collect({ ...options, onBadImage: (e) => reported.push(e) }, 1);
      const [plain] = await collect({ ...options, augment: 'default', onBadImage: () => undefined }, 1);
      assert.equal(batch.size, 3);
      assert.deepEqual(reported, [], 'reported with its own batch, not here');
      assert.equal(digest(batch), digest(plain));
    });
  });
});
