/**
 * A small seeded PRNG for training: xoshiro128** (Blackman & Vigna, 2018; 128-bit state, period 2^128 − 1, 32-bit
 * outputs), seeded by hashing a seed and any number of stream ids (`createRandom(seed, epoch, sample)`), so every
 * consumer can own an independent, reproducible stream without sharing state between threads. The state is four
 * uint32 words: `getState()` / `restoreRandom()` resume a stream bit-exactly.
 *
 * Pure: no module state, no `Math.random`. Floating-point helpers use only + − × ÷ on exact integers except
 * `normal` (log, sqrt, cos), so sequences are identical on every platform that runs the same JS engine.
 */
import { integerInRange, invalidOption } from './validate.js';

/** Serialisable generator state (JSON-safe). */
export interface RandomState {
  readonly algorithm: 'xoshiro128**';
  /** The four 32-bit state words as unsigned integers; never all zero. */
  readonly words: readonly [number, number, number, number];
}

export interface Random {
  /** Next raw output: an unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform double in [low, high) with 53 random bits (two outputs). Defaults to [0, 1). */
  uniform(low?: number, high?: number): number;
  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 ≤ n ≤ 2^32. */
  int(n: number): number;
  /** `uniform() < probability`: true with the given probability (always consumes two outputs). */
  chance(probability: number): boolean;
  /** Normal deviate (Box–Muller, one value per call, no cached spare so the state stays four words). */
  normal(mean?: number, std?: number): number;
  /** A uniformly random permutation of 0..n−1 (Fisher–Yates, from the last index down). */
  permutation(n: number): Uint32Array;
  getState(): RandomState;
  setState(state: RandomState): void;
  /** An independent copy continuing from the same state. */
  clone(): Random;
}

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;

/**
 * A generator seeded from `seed` and optional stream ids (e.g. epoch, sample index). Different id lists give
 * unrelated streams: each of the four state words is a separate 32-bit hash of all the words.
 * @param seed a non-negative safe integer
 * @param streams non-negative safe integers
 */
export function createRandom(seed: number, ...streams: readonly number[]): Random {
  const words: number[] = [];
  for (const [i, value] of [seed, ...streams].entries()) {
    const name = i === 0 ? 'seed' : `stream ${i}`;
    integerInRange(name, value, 0, Number.MAX_SAFE_INTEGER);
    words.push(value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
  }
  const state = new Uint32Array(4);
  for (let lane = 0; lane < 4; lane++) state[lane] = hashWords(words, LANES[lane]);
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return new Xoshiro128(state);
}

/** A generator that continues from a state saved with `getState()`. */
export function restoreRandom(state: RandomState): Random {
  const random = new Xoshiro128(new Uint32Array(4));
  random.setState(state);
  return random;
}

const LANES = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344] as const; // π digits: nothing-up-my-sleeve

/** murmur3's 32-bit finalizer: a bijection with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashWords(words: readonly number[], lane: number): number {
  let h = fmix32(lane ^ words.length);
  for (const word of words) h = fmix32((h ^ word) + lane);
  return fmix32(h + 0x9e3779b9);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

class Xoshiro128 implements Random {
  readonly #s: Uint32Array;

  constructor(state: Uint32Array) {
    this.#s = state;
  }

  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  uniform(low = 0, high = 1): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    const unit = (a * 67108864 + b) / TWO_POW_53;
    return low + (high - low) * unit;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw invalidOption('n', 'an integer 1..2^32', n);
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // largest multiple of n ≤ 2^32
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  chance(probability: number): boolean {
    return this.uniform() < probability;
  }

  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  permutation(n: number): Uint32Array {
    integerInRange('n', n, 0, 2 ** 32);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = out[i];
      out[i] = out[j];
      out[j] = swap;
    }
    return out;
  }

  getState(): RandomState {
    const s = this.#s;
    return Object.freeze({
      algorithm: 'xoshiro128**',
      words: Object.freeze<[number, number, number, number]>([s[0], s[1], s[2], s[3]]),
    });
  }

  setState(state: RandomState): void {
    // Checked at run time: states come back from JSON checkpoints.
    const value: unknown = state;
    const { algorithm, words } =
      typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    if (
      algorithm !== 'xoshiro128**' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && (w as number) >= 0 && (w as number) < TWO_POW_32) ||
      words.every((w) => w === 0)
    ) {
      throw invalidOption('random state', 'a xoshiro128** state of four uint32 words, not all zero', state);
    }
    this.#s.set(words as number[]);
  }

  clone(): Random {
    return new Xoshiro128(Uint32Array.from(this.#s));
  }
}
