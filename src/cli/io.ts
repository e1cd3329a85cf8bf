import { buffer } from 'node:stream/consumers';

/** Where commands write; injected so commands can be tested without spawning a process (STYLE.md §13). */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Progress bars only on an interactive terminal outside CI (vite's rule). */
  readonly interactive: boolean;
  /** The bytes on standard input, to its end (`detect -`); absent where there is no stdin. */
  readonly readStdin?: () => Promise<Uint8Array>;
  /** Aborted once stdout is closed by its reader (`| head -1`): long commands stop, quietly. */
  readonly signal?: AbortSignal;
}

export function processIo(): CliIo {
  const stdoutClosed = new AbortController();
  // Without a listener, EPIPE from a closed pipe is an uncaught exception: a stack trace and exit 1.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED' && !stdoutClosed.signal.aborted) {
      process.stderr.write(`ultraface: cannot write to stdout: ${error.message}\n`);
    }
    stdoutClosed.abort();
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: process.stderr.isTTY && !process.env.CI,
    readStdin: async () => buffer(process.stdin),
    signal: stdoutClosed.signal,
  };
}
