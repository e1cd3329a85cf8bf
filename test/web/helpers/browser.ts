/**
 * Headless Chromium for the browser tests: Debian's chromium (`apt-get install -y chromium`; .ci/run installs it)
 * driven by playwright-core, with the flags that keep it off the network, and the demo built into a temporary
 * folder and served on 127.0.0.1 by the test itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

import { buildDemo, sharedSamples } from '../../../demo/build.js';
import { startDemoServer, type DemoServer } from '../../../demo/server.js';
import { WEB_ENTRY } from '../../../demo/web-bundle.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** No sandbox (root in CI); no GPU; and no background traffic (updates, sync, QUIC probes) on a closed network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
];

export interface Site {
  readonly dir: string;
  readonly server: DemoServer;
  close(): Promise<void>;
}

/**
 * A page with the library alone, as an app bundles it (esbuild, no custom conditions), and no detector made yet:
 * `/lib.html`, where `window.ultraface` is the `ultraface/web` module.
 */
export const LIB_PAGE = 'lib.html';

async function writeLibPage(dir: string): Promise<void> {
  await build({
    entryPoints: { lib: WEB_ENTRY },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    logLevel: 'warning',
  });
  await writeFile(
    join(dir, LIB_PAGE),
    '<!doctype html><meta charset="utf-8"><title>ultraface/web</title>\n' +
      '<script type="module">import * as ultraface from \'./lib.js\'; window.ultraface = ultraface;</script>\n',
  );
}

/**
 * Builds the demo (with the models made from ../shared) into a temporary folder, plus `images` and the library
 * page (`LIB_PAGE`), and serves it with the sample photos of ../shared.
 */
export async function serveDemo(images: readonly string[] = []): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'ultraface-web-'));
  await buildDemo({ outDir: dir });
  await writeLibPage(dir);
  await mkdir(join(dir, 'images'));
  await Promise.all(images.map((path) => copyFile(path, join(dir, 'images', basename(path)))));
  const server = await startDemoServer({ root: dir, samples: sharedSamples() });
  return {
    dir,
    server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  readonly context: BrowserContext;
  readonly userDataDir: string;
  /** A page whose requests may only go to `origin`; the page's errors are collected in `errors`. */
  newPage(origin: string): Promise<{ page: Page; errors: string[]; blocked: string[] }>;
  close(): Promise<void>;
}

export async function launchChromium(extraFlags: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'ultraface-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
    viewport: { width: 1100, height: 720 },
  });
  return {
    context,
    userDataDir,
    async newPage(origin) {
      const page = await context.newPage();
      const errors: string[] = [];
      const blocked: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // Functions given to page.evaluate are compiled by tsx, which may wrap them in its `__name` helper.
      await page.addInitScript('globalThis.__name = (f) => f;');
      await page.route(
        (url) => url.origin !== origin && url.protocol !== 'data:' && url.protocol !== 'blob:',
        (route) => {
          blocked.push(route.request().url());
          return route.abort();
        },
      );
      return { page, errors, blocked };
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resident memory (bytes) of this browser's renderer processes (descendants of the browser process), from
 * /proc/PID/status. `anon` is private memory: the JS heap, wasm memory, canvas and image buffers, malloc. `file` is
 * file-backed mappings, where Chromium maps the shared-memory buffers of camera frames it draws (headless, with
 * --disable-dev-shm-usage): it grows with frames drawn up to a cap (~700 MB here) even on a page that only draws a
 * video onto a canvas, so it says nothing about the page's own leaks.
 */
export function rendererMemory(userDataDir: string): { anon: number; file: number } {
  const processes = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (field: string): number =>
          Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
        return [
          {
            pid: Number(pid),
            ppid: Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0),
            anon: kb('RssAnon'),
            file: kb('RssFile'),
            // Chromium's child processes rewrite their title: one string with spaces, not NUL-separated arguments.
            cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '),
          },
        ];
      } catch {
        return []; // ended meanwhile
      }
    });
  const root = processes.find(
    (p) => p.cmdline.includes(`--user-data-dir=${userDataDir} `) && !p.cmdline.includes('--type='),
  );
  if (!root) throw new Error(`No Chromium process with --user-data-dir=${userDataDir}`);
  const family = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of processes) {
      if (!family.has(p.pid) && family.has(p.ppid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  const renderers = processes.filter((p) => family.has(p.pid) && p.cmdline.includes('--type=renderer'));
  return {
    anon: renderers.reduce((sum, p) => sum + p.anon, 0),
    file: renderers.reduce((sum, p) => sum + p.file, 0),
  };
}
