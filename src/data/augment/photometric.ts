/**
 * Step 1 of the augmentation (index.ts): **photometric distortion** (SPEC §6.3 step 2, same order, probabilities
 * and ranges; values are never clipped, as upstream): brightness (add `uniform(−32, 32)`), then with equal odds
 * either contrast → HSV → saturation → hue → RGB, or HSV → saturation → hue → RGB → contrast (multiply by
 * `uniform(0.5, 1.5)`), then a random channel permutation (identity included). Saturation (× `uniform(0.5, 1.5)` on
 * S) and hue (+ `uniform(−18, 18)` degrees on H, wrapped once) are the only steps that need HSV: they use OpenCV's
 * float `RGB2HSV` / `HSV2RGB` formulas (H in degrees, S in 0..1, V = max(R, G, B) in the pixel scale) for each
 * pixel; the round trip is skipped when neither applies (upstream always runs it; it is the identity up to float
 * rounding on non-negative values). Only the source pixels the output reads (window ∩ image) are distorted; the
 * zoom-out fill stays at the mean.
 *
 * Here: the draws ({@link drawPhotometric}), the plan compiled per image ({@link pixelRecipe}) and the per-row
 * distortion the resampler (resample.ts) calls ({@link distortRow}).
 */
import type { RgbImage } from '../../core/image.js';
import type { Random } from '../../core/random.js';
import type { PhotometricOptions } from './options.js';

const PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
] as const;

/** The photometric draws of one image (`AppliedAugmentation['photometric']`). */
export interface PhotometricPlan {
  readonly brightness: number | null;
  readonly contrast: number | null;
  readonly contrastFirst: boolean;
  readonly saturation: number | null;
  readonly hue: number | null;
  /** New channel c is old channel `channels[c]`; null when not permuted. */
  readonly channels: readonly [number, number, number] | null;
}

/** Draws in upstream's order: `randint(2)` → our `chance(p)`, then the value when applied. */
export function drawPhotometric(o: PhotometricOptions, random: Random): PhotometricPlan {
  const brightness = random.chance(o.brightnessProbability)
    ? random.uniform(-o.brightnessDelta, o.brightnessDelta)
    : null;
  const contrastFirst = random.chance(0.5);
  const contrastDraw = (): number | null =>
    random.chance(o.contrastProbability) ? random.uniform(o.contrastLower, o.contrastUpper) : null;
  let contrast = contrastFirst ? contrastDraw() : null;
  const saturation = random.chance(o.saturationProbability)
    ? random.uniform(o.saturationLower, o.saturationUpper)
    : null;
  const hue = random.chance(o.hueProbability) ? random.uniform(-o.hueDelta, o.hueDelta) : null;
  if (!contrastFirst) contrast = contrastDraw();
  const channels = random.chance(o.channelSwapProbability) ? PERMUTATIONS[random.int(6)] : null;
  return { brightness, contrast, contrastFirst, saturation, hue, channels };
}

const FLT_EPSILON = 1.1920928955078125e-7;

/**
 * A photometric plan compiled for one image. Upstream runs each step as a pass over a float32 image; here each
 * pixel goes through all of them at once and the same float32 values come out, so the result is bit-identical.
 * Brightness and the leading contrast act on each channel alone, so on uint8 input they are a table of 256 levels;
 * without an HSV step, the trailing contrast folds into that table too.
 *
 * The level table, the distorted row and the column weights are Float64Array holding float32 values: the same
 * numbers as upstream's float32 images, read without a float32 → float64 conversion each time.
 */
export interface PixelRecipe {
  /** Per input level: float32((level + brightness) · leading contrast), then · trailing contrast without `hsv`. */
  readonly levels: Float64Array;
  /**
   * The HSV round trip's saturation factor and hue shift, then the trailing contrast factor (1 when none); null when
   * neither saturation nor hue applies. A Float64Array so that the HSV loop reads raw doubles: V8 re-checks a number
   * parameter at each use inside a loop.
   */
  readonly hsv: Float64Array | null;
  /** The channel swap: output channel k is input channel `channels[k]`. */
  readonly channels: readonly [number, number, number];
}

/** The recipe of a plan; with no plan, the identity (levels 0..255). */
export function pixelRecipe(plan: PhotometricPlan | null): PixelRecipe {
  const levels = new Float64Array(256);
  if (plan === null) {
    for (let level = 0; level < 256; level++) levels[level] = level;
    return { levels, hsv: null, channels: [0, 1, 2] };
  }
  const brightness = plan.brightness ?? 0;
  const before = plan.contrastFirst ? (plan.contrast ?? 1) : 1;
  const after = plan.contrastFirst ? 1 : (plan.contrast ?? 1);
  const hsv =
    plan.saturation !== null || plan.hue !== null
      ? Float64Array.of(plan.saturation ?? 1, plan.hue ?? 0, after)
      : null;
  for (let level = 0; level < 256; level++) {
    levels[level] = Math.fround((level + brightness) * before);
    // Without HSV, the trailing contrast is the next pass over the same float32 values.
    if (hsv === null) levels[level] = Math.fround(levels[level] * after);
  }
  return { levels, hsv, channels: plan.channels ?? [0, 1, 2] };
}

/**
 * Photometric distortion (SPEC §6.3 step 2), unclipped, of the pixels in `runs` (pairs [from, to) of columns) of the
 * image row starting at element `start` of `data`, into `row` with the image's layout (pixel x at cn · x, RGB); the
 * other pixels of `row` are left as they are.
 */
export function distortRow(
  data: RgbImage['data'],
  start: number,
  cn: number,
  runs: Int32Array,
  recipe: PixelRecipe,
  row: Float64Array,
): void {
  const { levels, hsv } = recipe;
  if (hsv !== null) {
    hsvDistort(data, start, cn, runs, levels, hsv, recipe.channels, row);
    return;
  }
  const [c0, c1, c2] = recipe.channels;
  for (let run = 0; run < runs.length; run += 2) {
    for (let o = cn * runs[run], end = cn * runs[run + 1]; o < end; o += cn) {
      row[o] = levels[data[start + o + c0]];
      row[o + 1] = levels[data[start + o + c1]];
      row[o + 2] = levels[data[start + o + c2]];
    }
  }
}

/**
 * {@link distortRow} with the HSV step: levels, then RGB → HSV, S × saturation, H + hue (wrapped once, as upstream's
 * `RandomHue`), HSV → RGB, the trailing contrast and the channel swap. OpenCV's float formulas (`RGB2HSV_f`,
 * `HSV2RGB_f`; H in degrees, S = (V − min) / |V|, V = max) also define the result for values outside 0..255.
 */
function hsvDistort(
  data: RgbImage['data'],
  start: number,
  cn: number,
  runs: Int32Array,
  levels: Float64Array,
  hsv: Float64Array,
  channels: readonly [number, number, number],
  row: Float64Array,
): void {
  // Read once, here, as raw numbers (`| 0` for integers): V8 re-checks parameters and module constants at each use
  // inside a loop.
  const satFactor = hsv[0];
  const hueShift = hsv[1];
  const after = hsv[2];
  const scaled = after !== 1;
  const epsilon = FLT_EPSILON;
  const base = start | 0;
  const step = cn | 0;
  // Input channel c goes to slot[c] of the output pixel.
  const slot0 = channels.indexOf(0) | 0;
  const slot1 = channels.indexOf(1) | 0;
  const slot2 = channels.indexOf(2) | 0;
  for (let run = 0; run < runs.length; run += 2) {
    for (let o = step * runs[run], end = step * runs[run + 1]; o < end; o += step) {
      const r = levels[data[base + o]];
      const g = levels[data[base + o + 1]];
      const b = levels[data[base + o + 2]];
      // V = max and the channel RGB2HSV takes H from (the first of R, G, B equal to V), by comparisons: the same as
      // Math.max and `V === R`, `V === G` except that a tie of +0 and −0 may keep −0, a sign every consumer loses
      // (V and H only scale or add; the resize ends in `− 127`). Math.max/min cost V8 three branches each.
      const rIsMax = r >= g && r >= b;
      const gIsMax = !rIsMax && g >= b;
      const v = rIsMax ? r : gIsMax ? g : b;
      const vmin = r <= g ? (r <= b ? r : b) : g <= b ? g : b;
      const diff = v - vmin;
      const sat = (diff / (Math.abs(v) + epsilon)) * satFactor;
      let red = v;
      let green = v;
      let blue = v;
      if (sat !== 0) {
        const k = 60 / (diff + epsilon);
        let h = rIsMax ? (g - b) * k : gIsMax ? (b - r) * k + 120 : (r - g) * k + 240;
        if (h < 0) h += 360;
        h += hueShift;
        if (h > 360) h -= 360;
        else if (h < 0) h += 360;
        // OpenCV: h = fmod(h · 6/360, 6), + 6 if negative; then a sector check that cannot fail for finite input.
        // Here h is in [0, 360] (RGB2HSV gives [0, 360], the hue shift wraps once), so h · 6/360 is in [0, 6]
        // and one subtraction is the same (and avoids a slow floating-point `%`).
        h = (h * 6) / 360;
        if (h >= 6) h -= 6;
        const sector = Math.floor(h);
        h -= sector;
        const p = v * (1 - sat); // OpenCV tab[1]
        const q = v * (1 - sat * h); // tab[2]
        const t = v * (1 - sat * (1 - h)); // tab[3]
        // OpenCV's sector table {1,3,0}, {1,0,2}, {3,0,1}, {0,2,1}, {0,1,3}, {2,1,0} picks (b, g, r) from tab.
        switch (sector) {
          case 0:
            green = t;
            blue = p;
            break;
          case 1:
            red = q;
            blue = p;
            break;
          case 2:
            red = p;
            blue = t;
            break;
          case 3:
            red = p;
            green = q;
            break;
          case 4:
            red = t;
            green = p;
            break;
          default:
            green = p;
            blue = q;
        }
      }
      // Upstream stores HSV2RGB's result as float32, then multiplies by the trailing contrast (if any).
      let out0 = Math.fround(red);
      let out1 = Math.fround(green);
      let out2 = Math.fround(blue);
      if (scaled) {
        out0 = Math.fround(out0 * after);
        out1 = Math.fround(out1 * after);
        out2 = Math.fround(out2 * after);
      }
      row[o + slot0] = out0;
      row[o + slot1] = out1;
      row[o + slot2] = out2;
    }
  }
}
