import { createRequire } from 'node:module';

import { Command, InvalidArgumentError, Option } from 'commander';

import { INPUT_SIZE_NAMES, isInputSizeName, type InputSizeName } from '../core/presets.js';
import { UPSTREAM_NAMES, type UpstreamName } from '../model/import/upstream.js';
import { runConvert } from './commands/convert.js';
import { runDetect } from './commands/detect.js';
import { runInfo } from './commands/info.js';
import type { CliIo } from './io.js';

const number = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
};
const integer = (value: string): number => {
  const n = number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not an integer.`);
  return n;
};
const inputSizeOption = (): Option =>
  new Option('--input-size <size>', `network input size: ${INPUT_SIZE_NAMES.join(', ')} (width)`).argParser(
    (value): InputSizeName => {
      const size = Number(value);
      if (!isInputSizeName(size)) {
        throw new InvalidArgumentError(`Allowed choices are ${INPUT_SIZE_NAMES.join(', ')}.`);
      }
      return size;
    },
  );

/**
 * The `ultraface` command line: thin declarations over library calls. Each action resolves to an exit code
 * through `setExitCode`, so the program can be driven in tests without spawning a process.
 */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const program = new Command('ultraface')
    .version(version)
    .description('Ultra-light face detection: detect, import upstream weights, export ONNX, inspect models')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();

  program
    .command('detect')
    .description('detect faces in images and folders of images')
    .argument('<inputs...>', 'image files or folders')
    .option('-m, --model <file>', 'ONNX model (ultraface import or export makes one)')
    .addOption(inputSizeOption())
    .option('-t, --threshold <score>', 'keep faces scoring above this', number, 0.7)
    .option('--iou <iou>', 'NMS IoU threshold', number, 0.3)
    .option('--top-k <n>', 'keep at most n faces per image (0: all)', integer)
    .option('--candidate-size <n>', 'NMS candidates per image', integer)
    .option('--threads <n>', 'onnxruntime threads', integer)
    .option('-o, --out <dir>', 'write annotated images (boxes and scores) to this folder')
    .option('--json', 'print one JSON line per image')
    .action(async (inputs: string[], options: Parameters<typeof runDetect>[1]) => {
      setExitCode(await runDetect(inputs, options, io));
    });

  const convertCommand = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .requiredOption('-o, --out <file>', 'the ONNX file to write')
      .addOption(inputSizeOption())
      .option('--raw', 'leave box decoding out of the graph (boxes = raw SSD regression)')
      .option('--dynamic-size', 'leave the input height and width free (needs --raw; for aspect-keeping use)')
      .option('--no-fold-bn', 'keep BatchNorm nodes instead of folding them into the convolutions');

  convertCommand(
    'import',
    'convert upstream weights (.pth, .onnx, or --upstream NAME) to an ultraface ONNX model',
  )
    .argument('[file]', 'a .pth (legacy or zip) or .onnx file with state-dict-named weights')
    .addOption(new Option('--upstream <name>', 'download official upstream weights').choices(UPSTREAM_NAMES))
    .option('--upstream-url <url>', 'mirror of upstream models/pretrained/ (default: GitHub)')
    .action(async (file: string | undefined, options: Parameters<typeof runConvert>[1]) => {
      setExitCode(await runConvert(file, options, io));
    });

  convertCommand('export', 'export an ultraface model or weights file as ONNX (input size, variant)')
    .argument('<model>', 'an ultraface .onnx, or a .pth weights file')
    .action(async (file: string, options: Parameters<typeof runConvert>[1]) => {
      setExitCode(
        await runConvert(file, { ...options, upstream: undefined as UpstreamName | undefined }, io),
      );
    });

  program
    .command('info')
    .description('describe a model: network, input size, priors, parameters, FLOPs')
    .argument('<model>', 'an .onnx or .pth file')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      setExitCode(await runInfo(file, options, io));
    });

  return program;
}
