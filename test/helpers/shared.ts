import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: where package.json, models/ and dist/ are. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The read-only reference data (upstream weights, test images, golden vectors, datasets; never copied into the
 * repo): `$ULTRAFACE_SHARED` when set (relative to the working directory), else `../shared` beside the repository.
 */
export const SHARED_DIR = process.env.ULTRAFACE_SHARED
  ? resolve(process.env.ULTRAFACE_SHARED)
  : resolve(PACKAGE_ROOT, '../shared');

export function sharedPath(relative: string): string {
  const path = join(SHARED_DIR, relative);
  if (!existsSync(path)) {
    const where = process.env.ULTRAFACE_SHARED
      ? `ULTRAFACE_SHARED=${process.env.ULTRAFACE_SHARED}`
      : 'the ../shared folder beside the repo; set ULTRAFACE_SHARED to use another';
    throw new Error(`Test fixture missing: ${path} (reference data from ${where})`);
  }
  return path;
}
