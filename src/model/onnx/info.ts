import type { ModelMetadata } from './metadata.js';

// What a detector graph says about itself, without the protobuf types (onnx-proto), so that the public
// declarations that mention it (`ImportedWeights`, `ResolvedModel`'s inputs) compile in a consumer's project
// (onnx-proto's declarations need a global `Long` type; test/package/consumer-types.test.ts).

/** A tensor dimension: a size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

export interface OnnxModelInfo {
  readonly inputName: string;
  /** Input dims; symbolic ones (e.g. 'batch') as strings. */
  readonly inputDims: readonly Dim[];
  readonly outputNames: readonly string[];
  /** From ultraface's own metadata when present, else inferred from the graph (an `Exp` op means decoded). */
  readonly boxes: 'decoded' | 'raw';
  readonly numClasses: number | undefined;
  readonly metadata: ModelMetadata | undefined;
  /** Initializers also listed as graph inputs (old exporters); they slow onnxruntime down ~2x. */
  readonly initializerInputs: number;
}
