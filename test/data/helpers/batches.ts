import { createHash } from 'node:crypto';

import type { RgbImage } from '../../../src/core/image.js';
import { createRandom } from '../../../src/core/random.js';
import type { TrainingBatch, TrainingSample } from '../../../src/data/training-set.js';

/** Small in-memory photos (random pixels, seeded) with 1–3 faces each. */
export function syntheticSamples(count: number): TrainingSample[] {
  return Array.from({ length: count }, (_, i) => {
    const random = createRandom(99, i);
    const width = 60 + random.int(80);
    const height = 50 + random.int(60);
    const data = new Uint8Array(width * height * 3);
    for (let k = 0; k < data.length; k++) data[k] = random.int(256);
    const boxes: number[] = [];
    const faces = 1 + random.int(3);
    for (let f = 0; f < faces; f++) {
      const x = random.int(width - 12);
      const y = random.int(height - 12);
      boxes.push(
        x,
        y,
        x + 6 + random.int(Math.min(30, width - x - 6)),
        y + 6 + random.int(Math.min(30, height - y - 6)),
      );
    }
    const image: RgbImage = { data, width, height, channels: 3 };
    return { id: `synthetic-${i}`, image, boxes, labels: Array.from({ length: faces }, () => 1) };
  });
}

/** A batch's identity: epoch, index, size and a hash of every array it holds. */
export function digest(batch: TrainingBatch): string {
  const hash = createHash('sha256');
  for (const array of [batch.images, batch.labels, batch.locations, batch.sampleIndices, ...batch.boxes]) {
    hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
  return `${batch.epoch}/${batch.index}/${batch.size}/${hash.digest('hex')}`;
}
