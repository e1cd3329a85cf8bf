import { readFileSync } from 'node:fs';

import { sharedPath } from './shared.js';

/** One row of vectors.json: [x1, y1, x2, y2, score] in pixels. */
export type ReferenceRow = [number, number, number, number, number];

export interface ReferenceImage {
  width: number;
  height: number;
  decoded_rgb_md5: string;
  resized_320x240_rgb_md5: string;
  resized_640x480_rgb_md5: string;
  onnx_RFB_320_detections: ReferenceRow[];
  onnx_slim_320_detections: ReferenceRow[];
  pytorch_detect_imgs_default_RFB_640_detections: ReferenceRow[];
  pytorch_detect_imgs_default_slim_640_detections: ReferenceRow[];
}

/** SPEC §13: end-to-end reference outputs on the 24 upstream test images. */
export const referenceImages = (
  JSON.parse(readFileSync(sharedPath('reference/vectors.json'), 'utf8')) as {
    images: Record<string, ReferenceImage>;
  }
).images;

export const imagePath = (name: string): string => sharedPath(`reference/upstream/imgs/${name}`);
