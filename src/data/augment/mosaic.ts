/**
 * **Mosaic**, for crowds (not in upstream; off by default and in no preset): with probability p a training sample is
 * replaced by a 2x2 mosaic of itself and three other samples of the data set. Each quarter of the network input
 * shows one of the four photos, augmented on its own (steps 1–5 of index.ts at the quarter's size), so every face
 * is half as large as its photo alone would make it, with real context around it instead of zoom-out fill; faces
 * that end up under `minFaceSize` become ignore regions as anywhere else.
 *
 * Determinism: whether a sample becomes a mosaic, its partners and the quarter of each photo are drawn by
 * {@link planMosaic} from a *fork* of the sample's {@link Random}: a generator seeded from its state (hashed, so
 * unrelated to its output), which is itself left untouched. A batch builder can so draw the plan before decoding
 * (it needs the partners' images), and the plan is a pure function of (the sample's generator, the sample count):
 * 0 or 8 workers agree. The quarters are then augmented in order — the sample, partners 1, 2, 3 — from the sample's
 * Random itself, so a sample that does not become a mosaic draws exactly what it draws with mosaic off, and
 * probability 0 gives the same bytes as no mosaic.
 */
import { createRandom, type Random } from '../../core/random.js';
import { integerInRange } from '../../core/validate.js';
import type { Rect } from './geometry.js';
import type { MosaicOptions } from './options.js';

/** Where the photos of a mosaic come from and where they go. */
export interface MosaicPlan {
  /**
   * Sample indices of the three partners: never the sample itself and distinct, except in data sets of fewer than
   * 4 samples (which repeat partners; a data set of 1 uses the sample itself).
   */
  readonly partners: readonly [number, number, number];
  /**
   * `quarters[k]` is the quarter of photo k (0 = the sample, 1–3 = the partners in order): 0 top-left, 1 top-right,
   * 2 bottom-left, 3 bottom-right. A permutation of 0..3.
   */
  readonly quarters: readonly [number, number, number, number];
}

/** The fork's stream id under the sample generator's four state words. */
const MOSAIC_STREAM = 0x6d6f73; // 'mos'

/**
 * Whether sample `index` of `count` becomes a mosaic (probability `options.probability`) and with which partners;
 * null when mosaic is off or not drawn. Draws from a fork of `random` and does not advance it.
 * @throws UltrafaceError E_INVALID_OPTION for an index outside 0..count−1
 */
export function planMosaic(
  options: MosaicOptions | null,
  random: Random,
  index: number,
  count: number,
): MosaicPlan | null {
  if (options === null) return null;
  integerInRange('count', count, 1, 2 ** 32);
  integerInRange('index', index, 0, count - 1);
  const fork = createRandom(...random.getState().words, MOSAIC_STREAM);
  if (!fork.chance(options.probability)) return null;
  const others = count - 1;
  const partners: number[] = [];
  while (partners.length < 3) {
    if (others === 0) {
      partners.push(index);
      continue;
    }
    const pick = fork.int(others);
    const partner = pick < index ? pick : pick + 1; // uniform over the others
    if (others >= 3 && partners.includes(partner)) continue;
    partners.push(partner);
  }
  const [a, b, c, d] = fork.permutation(4);
  return { partners: [partners[0], partners[1], partners[2]], quarters: [a, b, c, d] };
}

/**
 * Quarter `q` of a width x height output, in output pixels: the left and top halves are ⌊width / 2⌋ and
 * ⌊height / 2⌋ wide and high, the others take the rest.
 */
export function quarterRect(q: number, width: number, height: number): Rect {
  const halfW = Math.floor(width / 2);
  const halfH = Math.floor(height / 2);
  const right = (q & 1) === 1;
  const bottom = q >= 2;
  return {
    x: right ? halfW : 0,
    y: bottom ? halfH : 0,
    width: right ? width - halfW : halfW,
    height: bottom ? height - halfH : halfH,
  };
}

/**
 * Copies a planar [3, rect.height, rect.width] image into `rect` of the planar [3, height, width] tensor at
 * `offset`.
 */
export function pasteQuarter(
  part: Float32Array,
  rect: Rect,
  width: number,
  height: number,
  tensor: Float32Array,
  offset: number,
): void {
  const partPlane = rect.width * rect.height;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < rect.height; y++) {
      const from = c * partPlane + y * rect.width;
      tensor.set(
        part.subarray(from, from + rect.width),
        offset + c * width * height + (rect.y + y) * width + rect.x,
      );
    }
  }
}

/**
 * Appends boxes normalized to a quarter ([M, 4], 0..1 of `rect`) to `out`, normalized to the whole width x height
 * output (float32 values).
 */
export function placeBoxes(
  boxes: Float32Array,
  rect: Rect,
  width: number,
  height: number,
  out: number[],
): void {
  for (let i = 0; i < boxes.length; i += 4) {
    out.push(
      Math.fround((rect.x + boxes[i] * rect.width) / width),
      Math.fround((rect.y + boxes[i + 1] * rect.height) / height),
      Math.fround((rect.x + boxes[i + 2] * rect.width) / width),
      Math.fround((rect.y + boxes[i + 3] * rect.height) / height),
    );
  }
}
