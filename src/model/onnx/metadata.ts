import type { NetVersion } from '../../core/presets.js';

/** Key of the JSON metadata entry that ultraface writes into every exported model (`metadata_props`). */
export const MODEL_METADATA_KEY = 'ultraface';

/** What a model file says about itself; the runtime reads it instead of guessing from the graph. */
export interface ModelMetadata {
  readonly format: 1;
  readonly net: NetVersion;
  readonly numClasses: number;
  /** The network input the graph is fixed to. */
  readonly inputSize: { readonly width: number; readonly height: number };
  /** The input size the weights were trained at. */
  readonly trainedSize: { readonly width: number; readonly height: number };
  /** 'decoded': `boxes` are normalized corners; 'raw': SSD regression to decode with the priors. */
  readonly boxes: 'decoded' | 'raw';
  readonly source?: string;
}
