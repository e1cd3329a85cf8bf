import { invalidOption, knownKeys } from '../core/validate.js';
import { renderLineChartSvg } from './chart.js';
import type { VocApResult } from './voc-ap.js';
import type { WiderEvaluation } from './wider-protocol.js';

/** Precision-recall curves as a standalone SVG document, and a JSON-ready summary of an evaluation. */

/** One curve: points (recall[i], precision[i]) in order; NaN points are left out (the line breaks there). */
export interface PrCurve {
  readonly label: string;
  /** Shown in the legend; NaN shows as "n/a". */
  readonly ap: number;
  /** [N] 0..1 */
  readonly recall: ArrayLike<number>;
  /** [N] 0..1 */
  readonly precision: ArrayLike<number>;
}

/** The easy, medium and hard curves of a WIDER evaluation (SPEC §10.3). */
export function widerPrCurves(result: WiderEvaluation): PrCurve[] {
  return [result.easy, result.medium, result.hard].map((r) => ({
    label: r.setting,
    ap: r.ap,
    recall: r.recall,
    precision: r.precision,
  }));
}

/** The curve of a VOC AP evaluation. */
export function vocPrCurve(result: VocApResult, label = 'AP50'): PrCurve {
  return { label, ap: result.ap, recall: result.recall, precision: result.precision };
}

/** A curve in JSON: NaN (not representable in JSON) becomes null. */
export interface PrCurveSummary {
  readonly label: string;
  readonly ap: number | null;
  /** Recall denominator: counted faces (WIDER `count_face`) or non-difficult boxes (VOC). */
  readonly groundTruthCount: number;
  readonly recall: readonly (number | null)[];
  readonly precision: readonly (number | null)[];
  /** WIDER only: [1000] normalised-score threshold of each point. VOC: the score of each detection. */
  readonly thresholds: readonly number[];
}

export interface EvaluationSummary {
  readonly protocol: 'wider-face' | 'voc-ap';
  /** AP per curve label (`easy`, `medium`, `hard`, or the VOC label); null where NaN. */
  readonly ap: Readonly<Record<string, number | null>>;
  readonly curves: readonly PrCurveSummary[];
}

const jsonNumber = (x: number): number | null => (Number.isNaN(x) ? null : x);
const jsonArray = (values: ArrayLike<number>): (number | null)[] => Array.from(values, jsonNumber);

export function summarizeWider(result: WiderEvaluation): EvaluationSummary {
  const curves = [result.easy, result.medium, result.hard].map((r) => ({
    label: r.setting,
    ap: jsonNumber(r.ap),
    groundTruthCount: r.faceCount,
    recall: jsonArray(r.recall),
    precision: jsonArray(r.precision),
    thresholds: Array.from(r.thresholds),
  }));
  return { protocol: 'wider-face', ap: Object.fromEntries(curves.map((c) => [c.label, c.ap])), curves };
}

export function summarizeVoc(result: VocApResult, label = 'AP50'): EvaluationSummary {
  const curve = {
    label,
    ap: jsonNumber(result.ap),
    groundTruthCount: result.groundTruthCount,
    recall: jsonArray(result.recall),
    precision: jsonArray(result.precision),
    thresholds: Array.from(result.scores),
  };
  return { protocol: 'voc-ap', ap: { [label]: curve.ap }, curves: [curve] };
}

export interface PrPlotOptions {
  /** Default "Precision-recall". */
  readonly title?: string;
  /** Pixels, default 640. */
  readonly width?: number;
  /** Pixels, default 480. */
  readonly height?: number;
}

/**
 * Renders PR curves (recall on x, precision on y, both 0..1) as a standalone SVG document: ticks every 0.1,
 * gridlines, a title and a legend with each curve's AP.
 */
export function renderPrCurvesSvg(curves: readonly PrCurve[], options: PrPlotOptions = {}): string {
  knownKeys('options', options, ['title', 'width', 'height']);
  const title = options.title ?? 'Precision-recall';
  if (typeof title !== 'string') throw invalidOption('title', 'a string', title);
  const series = curves.map((curve) => ({
    label: `${curve.label} (AP ${Number.isNaN(curve.ap) ? 'n/a' : curve.ap.toFixed(3)})`,
    x: curve.recall,
    y: curve.precision,
  }));
  return renderLineChartSvg(series, {
    title,
    xLabel: 'Recall',
    yLabel: 'Precision',
    ...(options.width === undefined ? {} : { width: options.width }),
    ...(options.height === undefined ? {} : { height: options.height }),
  });
}
