/**
 * YuNet-n (libfacedetection 2023, Apache-2.0; ../shared/reference/peers/yunet_n_320_320.onnx) run the way OpenCV's
 * `FaceDetectorYN` runs it, for side-by-side benchmarks only: never part of the product.
 *
 * - Decode: every pixel (sharp, as `cv2.imread`).
 * - Pre-processing, one pass: bilinear resize to the model's 320x320 input (OpenCV's half-pixel mapping, float
 *   weights), written as BGR float 0..255 NCHW (`blobFromImage` with no scaling or mean).
 * - Post-processing: for strides 8, 16, 32 and each cell (r, c): score = sqrt(clamp(cls) · clamp(obj)),
 *   centre ((c + dx)·s, (r + dy)·s), size (exp(dw)·s, exp(dh)·s); NMS at IoU 0.3 over the faces scoring ≥ 0.9,
 *   top 5000 (`FaceDetectorYN` defaults); boxes scaled back to the image.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

import type { RgbImage } from '../src/core/image.js';
import { hardNms } from '../src/core/nms.js';

const SIZE = 320;
const STRIDES = [8, 16, 32] as const;
const SCORE_THRESHOLD = 0.9;
const NMS_IOU = 0.3;
const TOP_K = 5000;

export interface PeerFace {
  readonly box: readonly [number, number, number, number]; // x1, y1, x2, y2 in image pixels
  readonly score: number;
}

export interface YuNet {
  /** [1, 3, 320, 320] BGR 0..255 from RGB pixels of any size. */
  input(image: RgbImage): Float32Array;
  /** session.run on a ready input. */
  run(input: Float32Array): Promise<ort.InferenceSession.OnnxValueMapType>;
  detect(image: RgbImage): Promise<PeerFace[]>;
  detectFile(path: string): Promise<PeerFace[]>;
  release(): Promise<void>;
}

/** Every pixel of a JPEG/PNG file as RGB, as `cv2.imread` decodes it. */
export async function decodeFull(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

export async function createYuNet(
  modelPath: string,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<YuNet> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions);

  const input = (image: RgbImage): Float32Array => {
    const { data, width: sw, height: sh, channels: cn } = image;
    const out = new Float32Array(3 * SIZE * SIZE);
    const plane = SIZE * SIZE;
    const scaleX = sw / SIZE;
    const scaleY = sh / SIZE;
    for (let y = 0; y < SIZE; y++) {
      const fy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), sh - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, sh - 1);
      const wy = fy - y0;
      const row0 = y0 * sw * cn;
      const row1 = y1 * sw * cn;
      for (let x = 0; x < SIZE; x++) {
        const fx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), sw - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, sw - 1);
        const wx = fx - x0;
        const a = row0 + x0 * cn;
        const b = row0 + x1 * cn;
        const c = row1 + x0 * cn;
        const d = row1 + x1 * cn;
        const o = y * SIZE + x;
        for (let ch = 0; ch < 3; ch++) {
          const top = data[a + ch] + (data[b + ch] - data[a + ch]) * wx;
          const bottom = data[c + ch] + (data[d + ch] - data[c + ch]) * wx;
          out[(2 - ch) * plane + o] = top + (bottom - top) * wy; // RGB → BGR planes
        }
      }
    }
    return out;
  };

  const run = (tensor: Float32Array): Promise<ort.InferenceSession.OnnxValueMapType> =>
    session.run({ input: new ort.Tensor('float32', tensor, [1, 3, SIZE, SIZE]) });

  const decode = (
    outputs: ort.InferenceSession.OnnxValueMapType,
    width: number,
    height: number,
  ): PeerFace[] => {
    const boxes: number[] = [];
    const scores: number[] = [];
    for (const s of STRIDES) {
      const cls = outputs[`cls_${s}`].data as Float32Array;
      const obj = outputs[`obj_${s}`].data as Float32Array;
      const bbox = outputs[`bbox_${s}`].data as Float32Array;
      const cols = SIZE / s;
      for (let idx = 0; idx < cls.length; idx++) {
        const score = Math.sqrt(Math.min(Math.max(cls[idx], 0), 1) * Math.min(Math.max(obj[idx], 0), 1));
        if (score < SCORE_THRESHOLD) continue;
        const r = Math.floor(idx / cols);
        const c = idx % cols;
        const cx = (c + bbox[idx * 4]) * s;
        const cy = (r + bbox[idx * 4 + 1]) * s;
        const w = Math.exp(bbox[idx * 4 + 2]) * s;
        const h = Math.exp(bbox[idx * 4 + 3]) * s;
        boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
        scores.push(score);
      }
    }
    const keep = hardNms(boxes, scores, { iouThreshold: NMS_IOU, topK: TOP_K, candidateSize: scores.length });
    const sx = width / SIZE;
    const sy = height / SIZE;
    return keep.map((k) => ({
      box: [boxes[4 * k] * sx, boxes[4 * k + 1] * sy, boxes[4 * k + 2] * sx, boxes[4 * k + 3] * sy],
      score: scores[k],
    }));
  };

  const detect = async (image: RgbImage): Promise<PeerFace[]> =>
    decode(await run(input(image)), image.width, image.height);

  return {
    input,
    run,
    detect,
    detectFile: async (path) => detect(await decodeFull(path)),
    release: () => session.release(),
  };
}
