import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';

import { UltrafaceError } from '../core/errors.js';
import { IMAGE_FILE_EXTENSIONS } from '../runtime/node/image.js';

/** The argument that means "the image on standard input". */
export const STDIN_ARGUMENT = '-';

/** An image to process, as found from the command's arguments. */
export interface ImageSource {
  /** The path as given or found; `-` for standard input. */
  readonly path: string;
  /**
   * Where the image sits under the folder argument it was found in (`sub/x.jpg`), or its base name for a file
   * argument (`stdin` for `-`): the annotated copy's name under `--out`.
   */
  readonly name: string;
  /** 'file': a regular file; 'stream': a FIFO or device (`<(…)`, `/dev/stdin`), readable once; 'stdin': `-`. */
  readonly kind: 'file' | 'stream' | 'stdin';
  /** Why this input cannot be processed (a missing path): reported in its place, the others still run. */
  readonly error?: UltrafaceError;
}

export interface ExpandedInputs {
  /** In argument order; a folder's images sorted by path (a stable order). */
  readonly images: ImageSource[];
  /** Folders with no image in them or below them. */
  readonly emptyFolders: string[];
}

const EXTENSIONS = [...IMAGE_FILE_EXTENSIONS].join(', ');

/**
 * Files as given, and the images inside given folders (recursively; symbolic links to files are followed, links to
 * folders are not). A missing path is kept, with its error, so the caller can report it in its place.
 */
export async function expandImageInputs(inputs: readonly string[]): Promise<ExpandedInputs> {
  const images: ImageSource[] = [];
  const emptyFolders: string[] = [];
  for (const input of inputs) {
    if (input === STDIN_ARGUMENT) {
      images.push({ path: input, name: 'stdin', kind: 'stdin' });
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (cause) {
      const error = new UltrafaceError('E_FILE_NOT_FOUND', `No such file or directory: ${input}`, { cause });
      images.push({ path: input, name: basename(input), kind: 'file', error });
      continue;
    }
    if (!info.isDirectory()) {
      images.push({ path: input, name: basename(input), kind: info.isFile() ? 'file' : 'stream' });
      continue;
    }
    const found = await imagesInFolder(input);
    if (found.length === 0) emptyFolders.push(input);
    images.push(...found);
  }
  return { images, emptyFolders };
}

/** What a folder with no images is told: `<folder>: no images (.jpg, …) in this folder or below it`. */
export function emptyFolderMessage(folder: string): string {
  return `${folder}: no images (${EXTENSIONS}) in this folder or below it`;
}

async function imagesInFolder(folder: string): Promise<ImageSource[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const images: ImageSource[] = [];
  for (const entry of entries) {
    if (!IMAGE_FILE_EXTENSIONS.has(extname(entry.name).toLowerCase())) continue;
    const path = join(entry.parentPath, entry.name);
    const source = { path, name: relative(folder, path), kind: 'file' } as const;
    if (entry.isFile()) {
      images.push(source);
    } else if (entry.isSymbolicLink()) {
      const target = await stat(path).catch((cause: unknown) => cause as Error);
      if (target instanceof Error) {
        const error = new UltrafaceError('E_FILE_NOT_FOUND', `Broken symbolic link: ${path}`, {
          cause: target,
        });
        images.push({ ...source, error });
      } else if (target.isFile()) {
        images.push(source);
      }
    }
  }
  return images.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The formats annotated copies are written in (`drawDetections`); other inputs are annotated as PNG. */
const WRITABLE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/**
 * Where each image's annotated copy goes under `outDir`: its `name` (so a folder argument's sub-folders are
 * mirrored), with a `.png` extension when its own format cannot be written (GIF, TIFF, AVIF, stdin), and `-2`,
 * `-3`, … before the extension where names clash (`a/x.jpg b/x.jpg` → `x.jpg`, `x-2.jpg`).
 * @throws UltrafaceError E_INVALID_OPTION when a copy would land on an input image (`detect -o photos photos`)
 */
export async function annotatedPaths(images: readonly ImageSource[], outDir: string): Promise<string[]> {
  const taken = new Set<string>(); // lower-cased: case-insensitive file systems
  const paths = images.map(({ name }) => {
    const extension = extname(name);
    const stem = name.slice(0, name.length - extension.length);
    const suffix = WRITABLE_EXTENSIONS.has(extension.toLowerCase()) ? extension : '.png';
    let candidate = `${stem}${suffix}`;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${suffix}`;
    taken.add(candidate.toLowerCase());
    return join(outDir, candidate);
  });
  // Files compared by identity (device, inode): sees through symbolic and hard links, `..` and case.
  const identity = async (path: string): Promise<string | undefined> => {
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? `${info.dev}:${info.ino}` : undefined;
  };
  const inputs = new Set<string>();
  for (const image of images) {
    const id = image.kind === 'file' && !image.error ? await identity(image.path) : undefined;
    if (id !== undefined) inputs.add(id);
  }
  for (const path of paths) {
    const id = await identity(path);
    if (id !== undefined && inputs.has(id)) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected an --out folder that holds no input image, but writing ${path} would overwrite an input; ` +
          'annotated copies never replace their images: choose another folder',
      );
    }
  }
  return paths;
}
