import { integerInRange, invalidOption, knownKeys } from '../core/validate.js';

/** A line chart as a standalone SVG document: used for PR curves and training loss curves. */

export interface ChartSeries {
  /** Legend text. */
  readonly label: string;
  /** [N] points (x[i], y[i]) in order; non-finite points break the line. */
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Axis ranges; default 0..1, or 0..the largest finite value when `'auto'`. */
  readonly xMax?: number | 'auto';
  readonly yMax?: number | 'auto';
  /** Pixels, default 640 x 480. */
  readonly width?: number;
  readonly height?: number;
  /** Legend at the bottom left (default, where PR curves leave room) or top right (falling curves). */
  readonly legend?: 'bottom-left' | 'top-right';
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fmt = (x: number): string => String(Math.round(x * 100) / 100);

/** A round axis maximum ≥ the data's largest value (1, 2 or 5 × a power of ten). */
function niceMax(values: readonly ArrayLike<number>[]): number {
  let max = 0;
  for (const v of values)
    for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) max = Math.max(max, v[i]);
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= max) ?? 10 * power;
}

function tickLabel(value: number, max: number): string {
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(max)));
  return value.toFixed(decimals);
}

/** Renders line series with ticks every tenth of each axis, gridlines, a title and a legend. */
export function renderLineChartSvg(series: readonly ChartSeries[], options: ChartOptions): string {
  knownKeys('options', options, ['title', 'xLabel', 'yLabel', 'xMax', 'yMax', 'width', 'height', 'legend']);
  const width = integerInRange('width', options.width ?? 640, 200, 10000);
  const height = integerInRange('height', options.height ?? 480, 200, 10000);
  if (typeof options.title !== 'string') throw invalidOption('title', 'a string', options.title);
  const xMax = options.xMax === 'auto' ? niceMax(series.map((s) => s.x)) : (options.xMax ?? 1);
  const yMax = options.yMax === 'auto' ? niceMax(series.map((s) => s.y)) : (options.yMax ?? 1);

  const [left, right, top, bottom] = [60, 20, 40, 50];
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (v: number): number => left + (v / xMax) * plotW;
  const y = (v: number): number => top + (1 - v / yMax) * plotH;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${fmt(width / 2)}" y="${fmt(top / 2 + 6)}" text-anchor="middle" font-size="16">${escapeXml(options.title)}</text>`,
  ];
  for (let i = 0; i <= 10; i++) {
    const [vx, vy] = [(i / 10) * xMax, (i / 10) * yMax];
    out.push(
      `<line x1="${fmt(x(vx))}" y1="${fmt(y(0))}" x2="${fmt(x(vx))}" y2="${fmt(y(yMax))}" stroke="#e0e0e0"/>`,
      `<line x1="${fmt(x(0))}" y1="${fmt(y(vy))}" x2="${fmt(x(xMax))}" y2="${fmt(y(vy))}" stroke="#e0e0e0"/>`,
      `<line x1="${fmt(x(vx))}" y1="${fmt(y(0))}" x2="${fmt(x(vx))}" y2="${fmt(y(0) + 5)}" stroke="#000000"/>`,
      `<line x1="${fmt(x(0) - 5)}" y1="${fmt(y(vy))}" x2="${fmt(x(0))}" y2="${fmt(y(vy))}" stroke="#000000"/>`,
      `<text x="${fmt(x(vx))}" y="${fmt(y(0) + 18)}" text-anchor="middle">${tickLabel(vx, xMax)}</text>`,
      `<text x="${fmt(x(0) - 8)}" y="${fmt(y(vy) + 4)}" text-anchor="end">${tickLabel(vy, yMax)}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#000000"/>`,
    `<text x="${fmt(x(xMax / 2))}" y="${fmt(height - 10)}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${fmt(y(yMax / 2))}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );

  series.forEach((line, c) => {
    let d = '';
    let pen = 'M';
    for (let i = 0; i < Math.min(line.x.length, line.y.length); i++) {
      const [vx, vy] = [line.x[i], line.y[i]];
      if (!Number.isFinite(vx) || !Number.isFinite(vy)) {
        pen = 'M';
        continue;
      }
      d += `${pen}${fmt(x(Math.min(vx, xMax)))} ${fmt(y(Math.min(vy, yMax)))}`;
      pen = 'L';
    }
    if (d !== '')
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[c % COLORS.length]}" stroke-width="2"/>`);
  });

  const topRight = options.legend === 'top-right';
  const legendX = topRight ? x(xMax) - 220 : x(0) + 12;
  const legendY = topRight ? y(yMax) + 16 : y(0) - 12 - 18 * (series.length - 1);
  series.forEach((line, c) => {
    const ly = legendY + 18 * c;
    out.push(
      `<line x1="${fmt(legendX)}" y1="${fmt(ly)}" x2="${fmt(legendX + 24)}" y2="${fmt(ly)}" stroke="${COLORS[c % COLORS.length]}" stroke-width="3"/>`,
      `<text x="${fmt(legendX + 30)}" y="${fmt(ly + 4)}">${escapeXml(line.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
