import type { InputSizeName } from '../../core/presets.js';
import { parseDatasetSpec, withWiderMinFace } from '../../data/training-datasets.js';
import { labelDataset, type LabelCounts } from '../../label/label.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';

export interface LabelCommandOptions {
  /** `[voc:|wider:]PATH` */
  readonly dataset: string;
  readonly split: string;
  /** WIDER datasets' minimum face side, image pixels (DatasetSpec.minFaceSize). */
  readonly widerMinFace?: number;
  readonly teacher: string[];
  readonly sizes: InputSizeName[];
  readonly flip: boolean;
  readonly high: number;
  readonly low: number;
  readonly fuseIou: number;
  readonly promoteIgnored?: boolean;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly threads?: number;
}

const describeCounts = (c: LabelCounts): string =>
  `${c.images} images: ${c.humanFaces} human faces (+${c.addedFaces} from teachers), ` +
  `${c.humanIgnored} human ignore regions (+${c.addedIgnored} from teachers` +
  `${c.promoted > 0 ? `; ${c.promoted} of the human ones made faces` : ''})`;

/** `ultraface label`: teacher-completed annotations as a new VOC root (src/label/label.ts). */
export async function runLabel(options: LabelCommandOptions, io: CliIo): Promise<number> {
  const bar = progressBar(io, 'label');
  let summary;
  try {
    summary = await labelDataset({
      dataset: withWiderMinFace(parseDatasetSpec(options.dataset), options.widerMinFace),
      split: options.split,
      teachers: options.teacher,
      sizes: options.sizes,
      flip: options.flip,
      high: options.high,
      low: options.low,
      fuseIou: options.fuseIou,
      promoteIgnored: options.promoteIgnored ?? false,
      outDir: options.out,
      overwrite: options.overwrite ?? false,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      onProgress: (done, total) => {
        bar.update(done, total);
      },
    });
  } finally {
    bar.stop();
  }
  io.stdout.write(`${options.out}: ${describeCounts(summary)}\n`);
  for (const [source, counts] of Object.entries(summary.bySource))
    io.stdout.write(`  ${source}: ${describeCounts(counts)}\n`);
  if (summary.resumed > 0) io.stdout.write(`(${summary.resumed} images were done by an earlier run)\n`);
  return 0;
}
