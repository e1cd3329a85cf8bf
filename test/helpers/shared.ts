import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: where package.json, models/ and dist/ are. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The read-only `../shared` folder beside the repository (reference data; never copied into the repo). */
export const SHARED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');

export function sharedPath(relative: string): string {
  const path = join(SHARED_DIR, relative);
  if (!existsSync(path))
    throw new Error(`Test fixture missing: ${path} (the ../shared folder must sit beside the repo)`);
  return path;
}
