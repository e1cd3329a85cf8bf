import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { isUltrafaceError, UltrafaceError } from '../../core/errors.js';

/**
 * Writes a file under a temporary name in the same folder, then renames it into place: readers never see a
 * half-written file, and a failure leaves nothing behind. Creates missing parent folders (`ensureDirectory`).
 * @throws UltrafaceError E_IO when the folder cannot be created or the file cannot be written
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  // Not derived from the file's own name: a name near the 255-byte limit (faces-voc has 244-byte ones) plus a
  // suffix would not be a valid name.
  const temporary = join(dirname(path), `.${randomUUID()}.tmp`);
  try {
    await ensureDirectory(dirname(path));
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined); // nothing to clean when the folder is the problem
    if (isUltrafaceError(cause)) throw cause;
    throw new UltrafaceError('E_IO', `Cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Creates folder `path` and its missing parents, one level at a time, and fails at once when a level cannot be
 * made. (Node's `mkdir(…, { recursive: true })` retries forever where mkdir answers ENOENT under an existing
 * folder, as procfs does: `/proc/x` spun at 100 % CPU.)
 * @throws UltrafaceError E_IO when a parent is a file, or a level cannot be created (read-only, procfs, …)
 */
export async function ensureDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(current)).isDirectory();
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) {
        throw new UltrafaceError('E_IO', `Cannot create folder ${path}: ${(cause as Error).message}`, {
          cause,
        });
      }
      missing.push(current);
      current = parent;
      continue;
    }
    if (!isDirectory) {
      throw new UltrafaceError('E_IO', `Cannot create folder ${path}: ${current} is a file, not a folder`);
    }
    break;
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (cause) {
      // Another process may have made it meanwhile.
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST' && (await isFolder(level))) continue;
      throw new UltrafaceError('E_IO', `Cannot create folder ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
