#!/usr/bin/env node
import { CommanderError } from 'commander';

import { isUltrafaceError } from '../core/errors.js';
import { processIo } from './io.js';
import { createProgram } from './program.js';

/** The only place that sets an exit code (STYLE.md §6). */
async function main(): Promise<void> {
  const io = processIo();
  try {
    await createProgram(io, (code) => (process.exitCode = code)).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
    } else if (isUltrafaceError(error)) {
      io.stderr.write(`ultraface: ${error.code}: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  }
}

await main();
