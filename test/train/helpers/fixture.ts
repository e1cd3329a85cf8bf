import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One stored tensor of test/fixtures/train/<net>-128x96 (see scripts/fixtures/make-train-fixture.py). */
export interface FixtureTensor {
  readonly name: string;
  readonly kind: 'grad' | 'batch_mean' | 'batch_var';
  readonly shape: readonly number[];
  readonly offset: number;
  readonly count: number;
  /** Entry i of the stored values is entry i·stride of the full tensor (1: stored whole). */
  readonly stride: number;
  /** L2 norm of the full tensor. */
  readonly norm: number;
}

export interface TrainFixture {
  readonly net: 'slim' | 'RFB';
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  readonly priorCount: number;
  readonly weights: string;
  readonly labelModulus: readonly number[];
  readonly lossRegression: number;
  readonly lossClassification: number;
  readonly evalLossRegression: number;
  readonly evalLossClassification: number;
  readonly numPositives: number;
  readonly miningGap: number;
  readonly tensors: readonly FixtureTensor[];
  /** The stored values (float32). */
  readonly values: Float32Array;
}

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/train');

export function loadTrainFixture(net: 'slim' | 'RFB'): TrainFixture {
  const index = JSON.parse(readFileSync(join(DIR, `${net}-128x96.json`), 'utf8')) as Omit<
    TrainFixture,
    'values'
  >;
  const bytes = readFileSync(join(DIR, `${net}-128x96.bin`));
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { ...index, values };
}

/** The fixture's image [N, 3, H, W]: ((⌊u/65536⌋ mod 256) − 127)/128, u = (1103515245·i + 12345) mod 2³¹. */
export function fixtureImage(f: TrainFixture): Float32Array {
  const x = new Float32Array(f.batch * 3 * f.height * f.width);
  for (let i = 0; i < x.length; i++) {
    const u = (i * 1103515245 + 12345) % 2 ** 31; // < 2⁵³: exact in a double
    x[i] = ((Math.floor(u / 65536) % 256) - 127) / 128;
  }
  return x;
}

/** labels[n, p] = 1 if (37p + 11n) mod m_n = 0. */
export function fixtureLabels(f: TrainFixture): BigInt64Array {
  const labels = new BigInt64Array(f.batch * f.priorCount);
  for (let n = 0; n < f.batch; n++) {
    for (let p = 0; p < f.priorCount; p++)
      labels[n * f.priorCount + p] = (37 * p + 11 * n) % f.labelModulus[n] === 0 ? 1n : 0n;
  }
  return labels;
}

/** gt[j] = float32((((7919·j) mod 41) − 20)/10), j the flat [N, P, 4] index. */
export function fixtureGtLocations(f: TrainFixture): Float32Array {
  return Float32Array.from({ length: f.batch * f.priorCount * 4 }, (_, j) => (((j * 7919) % 41) - 20) / 10);
}

/** The stored entries of a tensor and the matching entries of `full`. */
export function sampled(
  t: FixtureTensor,
  values: Float32Array,
  full: ArrayLike<number>,
): { ref: Float32Array; ours: Float64Array } {
  const ref = values.subarray(t.offset, t.offset + t.count);
  const ours = Float64Array.from({ length: t.count }, (_, i) => full[i * t.stride]);
  return { ref, ours };
}

/** ‖a − b‖₂ / ‖b‖₂ (and ‖a − b‖₂ alone when ‖b‖ = 0). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function l2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] ** 2;
  return Math.sqrt(s);
}
