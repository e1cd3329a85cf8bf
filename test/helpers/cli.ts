import { CommanderError } from 'commander';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createProgram } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, mapping errors to exit codes as main.ts does. */
export async function runCli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive: false,
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
