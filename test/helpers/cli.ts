import { CommanderError } from 'commander';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createProgram } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Bytes on standard input (`detect -`). */
  readonly stdin?: Uint8Array;
  /** A fake terminal: `interactive` io, and a stderr that says it is a TTY (80 columns), as progress bars need. */
  readonly tty?: boolean;
}

/** Runs the CLI in-process with captured output, mapping errors to exit codes as main.ts does. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const { stdin, tty = false } = options;
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), ...(tty && { isTTY: true, columns: 80 }) },
    interactive: tty,
    ...(stdin && { readStdin: () => Promise.resolve(stdin) }),
  };
  let code = 0;
  try {
    await createProgram(io, (c) => (code = c)).parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else if (isUltrafaceError(error)) {
      stderr += `ultraface: ${error.code}: ${error.message}\n`;
      code = 1;
    } else throw error;
  }
  return { code, stdout, stderr };
}
