import { integerInRange, invalidOption, knownKeys } from '../core/validate.js';
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

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fmt = (x: number): string => String(Math.round(x * 100) / 100);

/**
 * Renders PR curves (recall on x, precision on y, both 0..1) as a standalone SVG document: ticks every 0.1,
 * gridlines, a title and a legend with each curve's AP.
 */
export function renderPrCurvesSvg(curves: readonly PrCurve[], options: PrPlotOptions = {}): string {
  knownKeys('options', options, ['title', 'width', 'height']);
  const width = integerInRange('width', options.width ?? 640, 200, 10000);
  const height = integerInRange('height', options.height ?? 480, 200, 10000);
  const title = options.title ?? 'Precision-recall';
  if (typeof title !== 'string') throw invalidOption('title', 'a string', title);

  const [left, right, top, bottom] = [60, 20, 40, 50];
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (recall: number) => left + recall * plotW;
  const y = (precision: number) => top + (1 - precision) * plotH;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${fmt(width / 2)}" y="${fmt(top / 2 + 6)}" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    const label = v.toFixed(1);
    out.push(
      `<line x1="${fmt(x(v))}" y1="${fmt(y(0))}" x2="${fmt(x(v))}" y2="${fmt(y(1))}" stroke="#e0e0e0"/>`,
      `<line x1="${fmt(x(0))}" y1="${fmt(y(v))}" x2="${fmt(x(1))}" y2="${fmt(y(v))}" stroke="#e0e0e0"/>`,
      `<line x1="${fmt(x(v))}" y1="${fmt(y(0))}" x2="${fmt(x(v))}" y2="${fmt(y(0) + 5)}" stroke="#000000"/>`,
      `<line x1="${fmt(x(0) - 5)}" y1="${fmt(y(v))}" x2="${fmt(x(0))}" y2="${fmt(y(v))}" stroke="#000000"/>`,
      `<text x="${fmt(x(v))}" y="${fmt(y(0) + 18)}" text-anchor="middle">${label}</text>`,
      `<text x="${fmt(x(0) - 8)}" y="${fmt(y(v) + 4)}" text-anchor="end">${label}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#000000"/>`,
    `<text x="${fmt(x(0.5))}" y="${fmt(height - 10)}" text-anchor="middle">Recall</text>`,
    `<text transform="translate(16 ${fmt(y(0.5))}) rotate(-90)" text-anchor="middle">Precision</text>`,
  );

  curves.forEach((curve, c) => {
    const color = COLORS[c % COLORS.length];
    let d = '';
    let pen = 'M';
    for (let i = 0; i < Math.min(curve.recall.length, curve.precision.length); i++) {
      const [r, p] = [curve.recall[i], curve.precision[i]];
      if (!Number.isFinite(r) || !Number.isFinite(p)) {
        pen = 'M';
        continue;
      }
      d += `${pen}${fmt(x(r))} ${fmt(y(p))}`;
      pen = 'L';
    }
    if (d !== '') out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
  });

  const legendY = y(0) - 12 - 18 * (curves.length - 1);
  curves.forEach((curve, c) => {
    const ly = legendY + 18 * c;
    const ap = Number.isNaN(curve.ap) ? 'n/a' : curve.ap.toFixed(3);
    out.push(
      `<line x1="${fmt(x(0) + 12)}" y1="${fmt(ly)}" x2="${fmt(x(0) + 36)}" y2="${fmt(ly)}" stroke="${COLORS[c % COLORS.length]}" stroke-width="3"/>`,
      `<text x="${fmt(x(0) + 42)}" y="${fmt(ly + 4)}">${escapeXml(`${curve.label} (AP ${ap})`)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
