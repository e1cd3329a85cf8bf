import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createRandom, restoreRandom, type RandomState } from '../../src/core/random.js';

describe('createRandom (xoshiro128**)', () => {
  it('matches the reference algorithm from a known state', () => {
    // Outputs of Blackman & Vigna's xoshiro128starstar.c from s = {1, 2, 3, 4}.
    const random = restoreRandom({ algorithm: 'xoshiro128**', words: [1, 2, 3, 4] });
    assert.deepEqual(
      Array.from({ length: 6 }, () => random.nextUint32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
  });

  it('is reproducible per (seed, streams) and streams are unrelated', () => {
    const draw = (...ids: number[]): number[] => {
      const [seed, ...streams] = ids;
      const random = createRandom(seed, ...streams);
      return Array.from({ length: 4 }, () => random.nextUint32());
    };
    assert.deepEqual(draw(7, 1, 2), draw(7, 1, 2));
    const seen = new Set(
      [draw(7), draw(8), draw(7, 0), draw(7, 1, 2), draw(7, 2, 1), draw(2 ** 40, 1)].map(String),
    );
    assert.equal(seen.size, 6);
  });

  it('resumes bit-exactly from a saved (JSON) state', () => {
    const random = createRandom(42, 3);
    for (let i = 0; i < 10; i++) random.uniform();
    const state = JSON.parse(JSON.stringify(random.getState())) as RandomState;
    const expected = Array.from({ length: 20 }, () => random.normal());
    const resumed = restoreRandom(state);
    assert.deepEqual(
      Array.from({ length: 20 }, () => resumed.normal()),
      expected,
    );
    const clone = resumed.clone();
    assert.equal(clone.nextUint32(), resumed.nextUint32());
    resumed.setState(state);
    assert.equal(resumed.normal(), expected[0]);
  });

  it('uniform, int, chance, normal and permutation have the right ranges and moments', () => {
    const random = createRandom(1);
    const n = 20_000;
    let sum = 0;
    let sumSq = 0;
    const counts = new Array<number>(6).fill(0);
    let heads = 0;
    for (let i = 0; i < n; i++) {
      const u = random.uniform(-2, 3);
      assert.ok(u >= -2 && u < 3);
      counts[random.int(6)]++;
      if (random.chance(0.25)) heads++;
      const z = random.normal(1, 2);
      sum += z;
      sumSq += (z - 1) ** 2;
    }
    assert.ok(Math.abs(sum / n - 1) < 0.05);
    assert.ok(Math.abs(Math.sqrt(sumSq / n) - 2) < 0.05);
    assert.ok(Math.abs(heads / n - 0.25) < 0.015);
    for (const c of counts) assert.ok(Math.abs(c / n - 1 / 6) < 0.015);
    const permutation = random.permutation(50);
    assert.deepEqual(
      Array.from(permutation).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.equal(random.permutation(0).length, 0);
  });

  it('rejects bad seeds and states with E_INVALID_OPTION', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(
        () => createRandom(seed),
        (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
      );
    }
    assert.throws(
      () => createRandom(1, -3),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
    const bad = [
      { algorithm: 'xoshiro128**', words: [0, 0, 0, 0] },
      { algorithm: 'xoshiro128**', words: [1, 2, 3] },
      { algorithm: 'xoshiro128**', words: [1, 2, 3, 2 ** 32] },
      { algorithm: 'pcg32', words: [1, 2, 3, 4] },
      null,
    ];
    for (const state of bad) {
      assert.throws(
        () => restoreRandom(state as unknown as RandomState),
        (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
      );
    }
    assert.throws(
      () => createRandom(1).int(0),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });
});
