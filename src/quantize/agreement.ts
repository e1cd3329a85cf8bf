/**
 * Agreement of two detectors' face scores on the same images (`compareScores` in calibrate.ts). Kept apart from
 * calibrate.ts, whose declarations name the protobuf model type, so the public `QuantizeReport` does not pull
 * onnx-proto's types into a consumer's project.
 */
export interface ScoreAgreement {
  readonly images: number;
  /** Mean |Δ face score| over the priors where either model scores at least 0.1 (those that can matter). */
  readonly meanScoreError: number;
  /** Largest |Δ face score| over all priors. */
  readonly maxScoreError: number;
}
