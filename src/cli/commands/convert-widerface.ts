import { convertWiderToVoc } from '../../data/convert-widerface.js';
import type { CliIo } from '../io.js';
import { progressBar } from '../progress.js';

export interface ConvertWiderfaceCommandOptions {
  readonly images: string;
  readonly annotations: string;
  readonly out: string;
  readonly minSize: number;
  readonly split?: string;
  readonly overwrite?: boolean;
}

/** `ultraface convert-widerface`: WIDER FACE images + annotations → a Pascal-VOC folder for training. */
export async function runConvertWiderface(
  options: ConvertWiderfaceCommandOptions,
  io: CliIo,
): Promise<number> {
  const bar = progressBar(io, 'convert');
  let result;
  try {
    result = await convertWiderToVoc({
      imagesDir: options.images,
      annotations: options.annotations,
      outDir: options.out,
      minSize: options.minSize,
      onProgress: bar.update,
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
    });
  } finally {
    bar.stop();
  }
  io.stdout.write(
    `${options.out}: ${result.images} images, ${result.faces} faces in split ${result.split}; dropped ` +
      `${result.droppedFaces} faces under ${options.minSize} px and ${result.droppedImages} images left without faces\n`,
  );
  return 0;
}
