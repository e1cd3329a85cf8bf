import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import {
  renderPrCurvesSvg,
  summarizeVoc,
  summarizeWider,
  vocPrCurve,
  widerPrCurves,
} from '../../src/eval/pr-plot.js';
import { evaluateVocAp } from '../../src/eval/voc-ap.js';
import { evaluateWider } from '../../src/eval/wider-protocol.js';

/** Well-formedness: every tag closes in order, and text holds no raw `<` or `&` (all escaped). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const [tag, close, name, selfClose] of svg.matchAll(/<(\/?)([a-zA-Z]+)(?:\s[^<>]*?)?(\/?)>/g)) {
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, tag);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
  assert.ok(!/&(?!#\d+;)/.test(svg));
}

function widerResult() {
  const keep = (...i: number[]) => Uint32Array.from(i);
  return evaluateWider(
    {
      images: [
        {
          event: 'e',
          name: 'n',
          boxes: Float64Array.from([0, 0, 20, 20, 100, 0, 20, 20]),
          keep: { easy: keep(), medium: keep(0), hard: keep(0, 1) },
        },
      ],
    },
    new Map([['e/n', Float64Array.from([100, 0, 20, 20, 1, 0, 0, 20, 20, 0.5, 900, 900, 9, 9, 0])]]),
  );
}

describe('PR plots and summaries', () => {
  it('renders WIDER curves as a well-formed standalone SVG with axes, grid and legend', () => {
    const result = widerResult();
    const svg = renderPrCurvesSvg(widerPrCurves(result), { title: 'WIDER <val> & co' });
    assertWellFormed(svg);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="480"/);
    assert.match(svg, />WIDER &#60;val&#62; &#38; co</);
    assert.match(svg, />Recall</);
    assert.match(svg, />Precision</);
    for (const tick of ['0.0', '0.5', '1.0']) assert.ok(svg.includes(`>${tick}</text>`));
    assert.ok(svg.includes('>easy (AP n/a)</text>')); // no face in easy: AP NaN
    assert.ok(svg.includes(`>medium (AP ${result.medium.ap.toFixed(3)})</text>`));
    assert.ok(svg.includes(`>hard (AP ${result.hard.ap.toFixed(3)})</text>`));
    // easy has no finite point, so only medium and hard draw a line
    assert.equal(svg.match(/<path /g)?.length, 2);
    assert.ok(!svg.includes('NaN'));
  });

  it('breaks a curve at NaN points', () => {
    const svg = renderPrCurvesSvg([
      { label: 'x', ap: 0.5, recall: [0, 0.2, 0.4, 0.6], precision: [1, NaN, 1, 0.5] },
    ]);
    const d = /<path d="([^"]*)"/.exec(svg)?.[1] ?? '';
    assert.equal(d.match(/M/g)?.length, 2);
    assert.equal(d.match(/L/g)?.length, 1);
  });

  it('renders one VOC curve and validates options', () => {
    const voc = evaluateVocAp([
      { groundTruth: [0, 0, 10, 10], boxes: [0, 0, 10, 10, 50, 50, 60, 60], scores: [0.9, 0.8] },
    ]);
    const svg = renderPrCurvesSvg([vocPrCurve(voc)], { width: 300, height: 200 });
    assertWellFormed(svg);
    assert.ok(svg.includes('>AP50 (AP 1.000)</text>'));
    assert.throws(
      () => renderPrCurvesSvg([], { width: 10 }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
    assert.throws(
      () => renderPrCurvesSvg([], { colour: 'red' } as object),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });

  it('summarises to JSON with NaN as null', () => {
    const result = widerResult();
    const summary = summarizeWider(result);
    const parsed = JSON.parse(JSON.stringify(summary)) as typeof summary;
    assert.deepEqual(parsed, summary);
    assert.equal(summary.protocol, 'wider-face');
    assert.deepEqual(Object.keys(summary.ap), ['easy', 'medium', 'hard']);
    assert.equal(summary.ap.easy, null);
    assert.equal(summary.ap.hard, result.hard.ap);
    assert.equal(summary.curves[2].recall.length, 1000);
    assert.equal(summary.curves[2].thresholds[0], 0.999);
    assert.equal(summary.curves[1].groundTruthCount, 1);

    const voc = summarizeVoc(
      evaluateVocAp([{ groundTruth: [0, 0, 10, 10], boxes: [0, 0, 10, 10], scores: [0.7] }]),
    );
    assert.deepEqual(voc.ap, { AP50: 1 });
    assert.deepEqual(voc.curves[0].thresholds, [0.7]);
  });
});
