import { readdir } from 'node:fs/promises';

import { UltrafaceError } from '../../core/errors.js';
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

/** Whether `path` is a folder with something in it (anything else is left to `convertWiderToVoc` to judge). */
async function nonEmptyFolder(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch {
    return false;
  }
}

/** `ultraface convert-widerface`: WIDER FACE images + annotations → a Pascal-VOC folder for training. */
export async function runConvertWiderface(
  options: ConvertWiderfaceCommandOptions,
  io: CliIo,
): Promise<number> {
  // The library's own check speaks of its `overwrite` option; on the command line it is --overwrite.
  if (!options.overwrite && (await nonEmptyFolder(options.out))) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `The output folder ${options.out} exists and is not empty; pass --overwrite to replace it`,
    );
  }
  const bar = progressBar(io, 'convert');
  let result;
  try {
    result = await convertWiderToVoc({
      imagesDir: options.images,
      annotations: options.annotations,
      outDir: options.out,
      minSize: options.minSize,
      onProgress: (done: number, total: number) => {
        bar.update(done, total);
      },
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
