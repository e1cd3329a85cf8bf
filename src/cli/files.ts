import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { UltrafaceError } from '../core/errors.js';
import { IMAGE_FILE_EXTENSIONS } from '../runtime/node/image.js';

/** Files as given, and the images inside given directories (recursively, sorted for a stable order). */
export async function expandImageInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch (cause) {
      throw new UltrafaceError('E_FILE_NOT_FOUND', `No such file or directory: ${input}`, { cause });
    }
    if (!info.isDirectory()) {
      files.push(input);
      continue;
    }
    const entries = await readdir(input, { recursive: true, withFileTypes: true });
    files.push(
      ...entries
        .filter((e) => e.isFile() && IMAGE_FILE_EXTENSIONS.has(extname(e.name).toLowerCase()))
        .map((e) => join(e.parentPath, e.name))
        .sort(),
    );
  }
  return files;
}
