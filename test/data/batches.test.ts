import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { isUltrafaceError, type UltrafaceError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import { INPUT_SIZES } from '../../src/core/presets.js';
import { priorCount } from '../../src/core/priors.js';
import { createBatchSource, epochOrder, type BatchSourceOptions } from '../../src/data/batches.js';
import {
  trainingSamplesFromVoc,
  type TrainingBatch,
  type TrainingSample,
} from '../../src/data/training-set.js';
import { readVocDataset } from '../../src/data/voc.js';
import { sharedPath } from '../helpers/shared.js';
import { digest, syntheticSamples } from './helpers/batches.js';

const P128 = priorCount(INPUT_SIZES[128]);

async function collect(options: BatchSourceOptions, count: number): Promise<string[]> {
  const source = createBatchSource(options);
  try {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(digest(await source.next()));
    return out;
  } finally {
    await source.close();
  }
}

const samples = syntheticSamples(10);
const base: BatchSourceOptions = { samples, inputSize: 128, batchSize: 4, seed: 5, augment: 'default' };

describe('batch source: determinism', () => {
  // 10 samples in batches of 4: 3 batches per epoch (4, 4, 2); 7 batches cross two epoch boundaries.
  let reference: string[] = [];
  before(async () => {
    reference = await collect({ ...base, workers: 0 }, 7);
  });

  it('depends only on (seed, epoch, batch): 0, 1 and 2 workers give identical batches', async () => {
    assert.deepEqual(await collect({ ...base, workers: 1, prefetch: 1 }, 7), reference);
    assert.deepEqual(await collect({ ...base, workers: 2, prefetch: 2 }, 7), reference);
    assert.deepEqual(
      reference.map((d) => d.split('/').slice(0, 3).join('/')),
      ['0/0/4', '0/1/4', '0/2/2', '1/0/4', '1/1/4', '1/2/2', '2/0/4'],
    );
  });

  it('a run resumed at batch k equals the tail of the full run', async () => {
    const source = createBatchSource({ ...base, workers: 0 });
    for (let i = 0; i < 4; i++) await source.next();
    const position = source.position;
    await source.close();
    assert.deepEqual(position, { epoch: 1, batch: 1 });
    assert.deepEqual(await collect({ ...base, workers: 0, start: position }, 3), reference.slice(4));
  });

  it('epochs differ (order and augmentation), seeds differ, every epoch visits every sample once', async () => {
    assert.equal(new Set(reference.map((d) => d.split('/')[3])).size, reference.length);
    const other = await collect({ ...base, seed: 6, workers: 0 }, 1);
    assert.notEqual(other[0], reference[0]);
    for (const epoch of [0, 1, 2]) {
      const order = epochOrder(5, epoch, 10);
      assert.deepEqual(
        Array.from(order).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.deepEqual(order, epochOrder(5, epoch, 10));
    }
    assert.notDeepEqual(epochOrder(5, 0, 10), epochOrder(5, 1, 10));
    assert.deepEqual(Array.from(epochOrder(5, 3, 4, false)), [0, 1, 2, 3]);
  });

  it('the same sample gets the same augmentation whatever batch it lands in (shuffle off vs on)', async () => {
    const ordered = createBatchSource({ ...base, workers: 0, shuffle: false, batchSize: 10 });
    const shuffled = createBatchSource({ ...base, workers: 0, batchSize: 10 });
    const [a, b] = [await ordered.next(), await shuffled.next()];
    const plane = 3 * 128 * 96;
    for (let item = 0; item < 10; item++) {
      const j = Array.from(b.sampleIndices).indexOf(a.sampleIndices[item]);
      assert.deepEqual(
        a.images.subarray(item * plane, (item + 1) * plane),
        b.images.subarray(j * plane, (j + 1) * plane),
      );
    }
    await Promise.all([ordered.close(), shuffled.close()]);
  });
});

describe('batch source: contents and options', () => {
  it('shapes: [N,3,H,W] images, [N,P] labels, [N,P,4] locations, per-image boxes; every face has a positive prior', async () => {
    const source = createBatchSource({ ...base, workers: 0, augment: 'none' });
    assert.equal(source.batchesPerEpoch, 3);
    assert.equal(source.priorCount, P128);
    for (const expected of [4, 4, 2]) {
      const batch = await source.next();
      assert.equal(batch.size, expected);
      assert.equal(batch.images.length, expected * 3 * 96 * 128);
      assert.equal(batch.labels.length, expected * P128);
      assert.equal(batch.locations.length, expected * P128 * 4);
      assert.equal(batch.boxes.length, expected);
      for (let item = 0; item < expected; item++) {
        const sample = samples[batch.sampleIndices[item]];
        assert.equal(batch.ids[item], sample.id);
        assert.equal(batch.boxLabels[item].length, sample.labels.length); // 'none' keeps every face
        const positives = batch.labels.subarray(item * P128, (item + 1) * P128).filter((l) => l > 0).length;
        assert.ok(positives >= 1);
      }
      assert.ok(batch.locations.every(Number.isFinite));
    }
    assert.deepEqual(source.position, { epoch: 1, batch: 0 });
    await source.close();
  });

  it('matchThreshold: a lower IoU makes a superset of the positives, with the same images', async () => {
    const positives = async (matchThreshold: number): Promise<{ images: Buffer; labels: Int32Array }> => {
      const source = createBatchSource({ ...base, workers: 0, augment: 'none', matchThreshold });
      const batch = await source.next();
      await source.close();
      return {
        images: Buffer.from(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength),
        labels: batch.labels,
      };
    };
    const [upstream, loose] = [await positives(0.35), await positives(0.2)];
    assert.ok(loose.images.equals(upstream.images));
    let added = 0;
    upstream.labels.forEach((label, p) => {
      if (label > 0) assert.ok(loose.labels[p] > 0, `prior ${p} stays a positive`);
      else if (loose.labels[p] > 0) added++;
    });
    assert.ok(added > 0, 'IoU 0.2 adds positives');
  });

  it('undistortedImages: the same crops without colour distortion, through workers too; absent unless asked', async () => {
    const first = async (options: Partial<BatchSourceOptions>): Promise<TrainingBatch> => {
      const source = createBatchSource({ ...base, augment: 'upstream', ...options });
      try {
        return await source.next();
      } finally {
        await source.close();
      }
    };
    const inThread = await first({ workers: 0, undistortedImages: true });
    const pooled = await first({ workers: 1, undistortedImages: true });
    const plain = await first({ workers: 0 });
    assert.equal(plain.undistortedImages, undefined);
    assert.equal(digest(inThread), digest(plain), 'asking for the copy changes nothing else');
    assert.deepEqual(pooled.undistortedImages, inThread.undistortedImages);
    assert.equal(inThread.undistortedImages?.length, inThread.images.length);
    assert.notDeepEqual(inThread.undistortedImages, inThread.images);
    const none = await first({ workers: 1, augment: 'none', undistortedImages: true });
    assert.deepEqual(none.undistortedImages, none.images);
  });

  it('dropLast drops the short batch', async () => {
    const source = createBatchSource({ ...base, workers: 0, dropLast: true });
    assert.equal(source.batchesPerEpoch, 2);
    await source.next();
    await source.next();
    assert.deepEqual(source.position, { epoch: 1, batch: 0 });
    await source.close();
  });

  it('rejects bad options and malformed samples', () => {
    const bad: [Partial<BatchSourceOptions>, string][] = [
      [{ samples: [] }, 'E_INVALID_OPTION'],
      [{ inputSize: 300 as 320 }, 'E_INVALID_OPTION'],
      [{ batchSize: 0 }, 'E_INVALID_OPTION'],
      [{ workers: -1 }, 'E_INVALID_OPTION'],
      [{ augment: 'crop' as 'none' }, 'E_INVALID_OPTION'],
      [{ start: { epoch: 0, batch: 3 } }, 'E_INVALID_OPTION'],
      [{ batchSize: 11, dropLast: true }, 'E_INVALID_OPTION'],
      [{ undistortedImages: 'yes' as unknown as boolean }, 'E_INVALID_OPTION'],
      [{ samples: [{ ...samples[0], boxes: [1, 2, 3] }] }, 'E_INVALID_INPUT'],
      [
        {
          samples: [{ ...samples[0], image: { data: new Uint8Array(5), width: 2, height: 2, channels: 3 } }],
        },
        'E_INVALID_INPUT',
      ],
    ];
    for (const [options, code] of bad) {
      assert.throws(
        () => createBatchSource({ ...base, ...options }),
        (e) => isUltrafaceError(e, code as 'E_INVALID_OPTION'),
        JSON.stringify(Object.keys(options)),
      );
    }
    assert.throws(
      () => createBatchSource({ ...base, wokers: 2 } as BatchSourceOptions),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });
});

describe('batch source: bad images and shutdown', () => {
  let dir = '';
  let files: TrainingSample[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ultraface-batches-'));
    const good = join(dir, 'good.png');
    const rgb = syntheticSamples(1)[0].image as RgbImage;
    await sharp(Buffer.from(rgb.data), { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
      .png()
      .toFile(good);
    const corrupt = join(dir, 'corrupt.jpg');
    await writeFile(corrupt, Buffer.from('\xff\xd8\xff\xe0 this is not a JPEG', 'latin1'));
    const face = { boxes: [2, 2, 20, 20], labels: [1] };
    files = [
      { id: 'good-1', image: good, ...face },
      { id: 'corrupt', image: corrupt, ...face },
      { id: 'good-2', image: good, ...face, width: rgb.width, height: rgb.height },
    ];
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const workers of [0, 1]) {
    it(`a corrupt image fails its batch with E_DATASET naming the file (workers ${workers})`, async () => {
      const source = createBatchSource({
        samples: files,
        inputSize: 128,
        batchSize: 3,
        workers,
        shuffle: false,
      });
      await assert.rejects(
        source.next(),
        (e) => isUltrafaceError(e, 'E_DATASET') && e.message.includes('corrupt.jpg'),
      );
      assert.deepEqual(source.position, { epoch: 0, batch: 0 });
      await source.close();
    });

    it(`with onBadImage the image is skipped and reported (workers ${workers})`, async () => {
      const reported: UltrafaceError[] = [];
      const source = createBatchSource({
        samples: files,
        inputSize: 128,
        batchSize: 3,
        workers,
        shuffle: false,
        onBadImage: (error) => reported.push(error),
      });
      const batch = await source.next();
      assert.equal(batch.size, 2);
      assert.deepEqual(batch.ids, ['good-1', 'good-2']);
      assert.deepEqual(
        batch.skipped.map((s) => s.index),
        [1],
      );
      assert.equal(reported.length, 1);
      assert.ok(isUltrafaceError(reported[0], 'E_DATASET') && reported[0].message.includes('corrupt.jpg'));
      await source.close();
    });
  }

  it('an image whose size differs from its annotation is E_DATASET', async () => {
    const wrong = { ...files[0], width: 7, height: 7 };
    const source = createBatchSource({ samples: [wrong], inputSize: 128, batchSize: 1, workers: 0 });
    await assert.rejects(
      source.next(),
      (e) => isUltrafaceError(e, 'E_DATASET') && /annotation says 7x7/.test(e.message),
    );
    await source.close();
  });

  it('close() with batches in flight: no hang, no unhandled rejection; next() after close is E_DISPOSED', async () => {
    const source = createBatchSource({ ...base, workers: 2, prefetch: 3 });
    // next() schedules 4 batches; closing while they are built rejects the one awaited, drops the others.
    const pending = assert.rejects(source.next(), (e) => isUltrafaceError(e, 'E_DISPOSED'));
    await source.close();
    await source.close(); // idempotent
    await pending;
    await assert.rejects(source.next(), (e) => isUltrafaceError(e, 'E_DISPOSED'));
  });
});

describe('batch source on faces-voc', () => {
  it('8 real photos at 320x240, 2 workers, 2 epochs: valid batches, identical to the in-thread build', async () => {
    const dataset = await readVocDataset(sharedPath('data/faces-voc'), { split: 'test' });
    const real = trainingSamplesFromVoc(dataset).slice(0, 8);
    assert.equal(real.length, 8);
    const options: BatchSourceOptions = {
      samples: real,
      inputSize: 320,
      batchSize: 4,
      seed: 1,
      augment: 'default',
    };
    const P = priorCount(INPUT_SIZES[320]);
    const source = createBatchSource({ ...options, workers: 2 });
    const digests: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const batch = await source.next();
        digests.push(digest(batch));
        assert.equal(batch.size, 4);
        assert.equal(batch.images.length, 4 * 3 * 240 * 320);
        assert.ok(batch.images.every(Number.isFinite));
        for (let item = 0; item < 4; item++) {
          const labels = batch.labels.subarray(item * P, (item + 1) * P);
          assert.ok(labels.every((l) => l === 0 || l === 1));
          assert.ok(labels.some((l) => l === 1));
          assert.ok(batch.boxes[item].every((v) => v >= 0 && v <= 1));
        }
      }
    } finally {
      await source.close();
    }
    assert.deepEqual(await collect({ ...options, workers: 0 }, 4), digests);
  });
});
