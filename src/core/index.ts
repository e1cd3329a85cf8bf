/** ultraface/core: pure detector logic shared by every runtime (no I/O, no Node or DOM APIs). */
export * from './boxes.js';
export * from './detect-options.js';
export * from './errors.js';
export * from './nms.js';
export * from './postprocess.js';
export * from './presets.js';
export * from './priors.js';
