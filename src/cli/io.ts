/** Where commands write; injected so commands can be tested without spawning a process (STYLE.md §13). */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Progress bars only on an interactive terminal outside CI (vite's rule). */
  readonly interactive: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: process.stderr.isTTY && !process.env.CI,
  };
}
