import cliProgress from 'cli-progress';

import type { CliIo } from './io.js';

/** A progress callback: a bar on an interactive terminal, nothing otherwise (plain output when piped or in CI). */
export function progressBar(
  io: CliIo,
  label: string,
): { update: (done: number, total: number) => void; stop: () => void } {
  if (!io.interactive) return { update: () => undefined, stop: () => undefined };
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
    stop() {
      if (started) bar.stop();
    },
  };
}
