/** The dynamic batcher and the decode limiter, without HTTP. No timing: windows are 0 or longer than the test. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createBatcher, createLimiter } from '../../src/serve/batcher.js';

const LONG = 600_000;

interface Item {
  readonly id: string;
  readonly key: string;
}

function recorder(fail = false) {
  const batches: string[][] = [];
  return {
    batches,
    run: async (items: readonly Item[]): Promise<string[]> => {
      await Promise.resolve();
      batches.push(items.map((item) => item.id));
      if (fail) throw new Error('session failed');
      return items.map((item) => `result ${item.id}`);
    },
  };
}

describe('createBatcher', () => {
  it('runs a batch as soon as maxBatch items of one key wait, each item getting its own result', async () => {
    const { batches, run } = recorder();
    const sizes: number[] = [];
    const batcher = createBatcher<Item, string>({
      maxBatch: 3,
      windowMs: LONG,
      key: (item) => item.key,
      run,
      onBatch: (size) => sizes.push(size),
    });
    const results = await Promise.all(['a', 'b', 'c'].map((id) => batcher.submit({ id, key: 'k' })));
    assert.deepEqual(results, ['result a', 'result b', 'result c']);
    assert.deepEqual(batches, [['a', 'b', 'c']]);
    assert.deepEqual(sizes, [3]);
    assert.equal(batcher.depth, 0);
  });

  it('never mixes keys; flush() runs what waits, oldest key first', async () => {
    const { batches, run } = recorder();
    const batcher = createBatcher<Item, string>({ maxBatch: 10, windowMs: LONG, key: (i) => i.key, run });
    const pending = [
      batcher.submit({ id: 'a', key: '320x240' }),
      batcher.submit({ id: 'b', key: '640x480' }),
      batcher.submit({ id: 'c', key: '320x240' }),
    ];
    assert.equal(batcher.depth, 3);
    batcher.flush();
    await Promise.all(pending);
    assert.deepEqual(batches, [['a', 'c'], ['b']]);
  });

  it('with no window, items queued while a batch runs form the next batch', async () => {
    const { batches, run } = recorder();
    const batcher = createBatcher<Item, string>({ maxBatch: 2, windowMs: 0, key: (i) => i.key, run });
    const pending = ['a', 'b', 'c', 'd', 'e'].map((id) => batcher.submit({ id, key: 'k' }));
    await Promise.all(pending);
    assert.deepEqual(batches, [['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('an aborted item leaves the queue and never runs', async () => {
    const { batches, run } = recorder();
    const batcher = createBatcher<Item, string>({ maxBatch: 2, windowMs: LONG, key: (i) => i.key, run });
    const controller = new AbortController();
    const gone = batcher.submit({ id: 'a', key: 'k' }, controller.signal);
    controller.abort(new Error('timed out'));
    await assert.rejects(gone, /timed out/);
    assert.equal(batcher.depth, 0);
    const kept = [batcher.submit({ id: 'b', key: 'k' }), batcher.submit({ id: 'c', key: 'k' })];
    assert.deepEqual(await Promise.all(kept), ['result b', 'result c']);
    assert.deepEqual(batches, [['b', 'c']]);
    const aborted = AbortSignal.abort(new Error('already'));
    await assert.rejects(batcher.submit({ id: 'd', key: 'k' }, aborted), /already/);
  });

  it('rejects every item of a batch whose run fails, and keeps serving', async () => {
    const failing = recorder(true);
    const batcher = createBatcher<Item, string>({
      maxBatch: 2,
      windowMs: LONG,
      key: (i) => i.key,
      run: failing.run,
    });
    const results = await Promise.allSettled([
      batcher.submit({ id: 'a', key: 'k' }),
      batcher.submit({ id: 'b', key: 'k' }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(batcher.busy, false);
  });
});

describe('createLimiter', () => {
  it('runs at most `limit` tasks at once, in order; an aborted waiter never runs', async () => {
    const limiter = createLimiter(2);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const task = (n: number) => async () => {
      started.push(n);
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
      return n;
    };
    const controller = new AbortController();
    const runs = [0, 1, 2].map((n) => limiter.run(task(n)));
    const aborted = limiter.run(task(99), controller.signal);
    const last = limiter.run(task(3));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.waiting, 3);
    controller.abort(new Error('gone'));
    await assert.rejects(aborted, /gone/);
    while (gates.length > 0 || started.length < 4) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all([...runs, last]), [0, 1, 2, 3]);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(peak, 2);
    assert.equal(limiter.active, 0);
  });
});
