/**
 * WIDER FACE ground truth as the official evaluation uses it (SPEC §10.2), independent of the file it came from.
 */

export type WiderSetting = 'easy' | 'medium' | 'hard';
export const WIDER_SETTINGS: readonly WiderSetting[] = ['easy', 'medium', 'hard'];

export interface WiderImageGroundTruth {
  /** Event folder, e.g. `0--Parade`. */
  readonly event: string;
  /** Image file name without `.jpg`, e.g. `0_Parade_marchingband_1_20`. */
  readonly name: string;
  /** [K, 4] x, y, w, h in image pixels (fractional in widerface-mini). */
  readonly boxes: Float64Array;
  /** Per setting: 0-based indices into `boxes` of the faces that count (the `.mat` `gt_list`, minus 1). */
  readonly keep: Readonly<Record<WiderSetting, Uint32Array>>;
}

export interface WiderGroundTruth {
  /** Images in `.mat` order: events in `event_list` order, files in `file_list` order. */
  readonly images: readonly WiderImageGroundTruth[];
}
