import cliProgress from 'cli-progress';

import type { CliIo } from './io.js';

export interface ProgressBar {
  update(done: number, total: number): void;
  /** Prints above the bar: `write` prints whole lines (to stdout or stderr); the bar is redrawn below them. */
  log(write: () => void): void;
  stop(): void;
}

/** A progress callback: a bar on an interactive terminal, nothing otherwise (plain output when piped or in CI). */
export function progressBar(io: CliIo, label: string): ProgressBar {
  if (!io.interactive) {
    return {
      update: () => undefined,
      log: (write) => {
        write();
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WritableStream,
      format: `${label} {bar} {value}/{total} | {eta_formatted} left`,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    log(write) {
      if (!started) {
        write();
        return;
      }
      io.stderr.write('\r\x1b[2K'); // clear the bar's line; the lines take its place
      write();
      // The bar's new line: cli-progress saved the cursor at start (ESC 7) and returns there on stop (ESC 8).
      io.stderr.write('\x1b7');
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
