import type { FaceDetectorOptions } from '../runtime/node/detector.js';

/**
 * How detections are produced for evaluation (SPEC §10.1, notes/eval-conventions.md). All three keep upstream's
 * evaluation thresholds — face score > 0.1, the best 800 candidates, hard NMS at IoU 0.3, at most 400 faces —
 * and differ in how an image becomes a network input.
 */
export type EvalProtocol = 'ulfd' | 'vga' | 'original';
export const EVAL_PROTOCOLS: readonly EvalProtocol[] = ['ulfd', 'vga', 'original'];

export interface ProtocolSpec {
  readonly description: string;
  readonly detector: Pick<
    FaceDetectorOptions,
    'scoreThreshold' | 'candidateSize' | 'topK' | 'iouThreshold' | 'resize'
  >;
}

const THRESHOLDS = { scoreThreshold: 0.1, candidateSize: 800, topK: 400, iouThreshold: 0.3 } as const;

export const PROTOCOL_SPECS: Readonly<Record<EvalProtocol, ProtocolSpec>> = {
  ulfd: {
    description: "upstream's evaluation_on_widerface.py: fixed resize to the model size, aspect not kept",
    detector: { ...THRESHOLDS, resize: 'stretch' },
  },
  vga: {
    description: 'aspect kept, longest side 640 pixels',
    detector: { ...THRESHOLDS, resize: { longestSide: 640 } },
  },
  original: {
    description: 'each image at its own size',
    detector: { ...THRESHOLDS, resize: 'original' },
  },
};

/** Whether the protocol needs a model with free input height and width (a raw, dynamic-size export). */
export function needsDynamicModel(protocol: EvalProtocol): boolean {
  return PROTOCOL_SPECS[protocol].detector.resize !== 'stretch';
}
