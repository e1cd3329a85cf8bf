import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { UltrafaceError } from '../../core/errors.js';

/**
 * Writes a file under a temporary name in the same folder, then renames it into place: readers never see a
 * half-written file, and a failure leaves nothing behind. Creates missing parent folders.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined); // nothing to clean when the folder is the problem
    throw new UltrafaceError('E_IO', `Cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}
