import { createRequire } from 'node:module';

import { Command, InvalidArgumentError, Option } from 'commander';

import { INPUT_SIZE_NAMES, isInputSizeName, type InputSizeName } from '../core/presets.js';
import { UPSTREAM_MODEL_NAMES, UPSTREAM_NAMES, type UpstreamName } from '../model/import/upstream.js';
import { EVAL_PROTOCOLS } from '../eval/protocols.js';
import { runAverage } from './commands/average.js';
import { runConvert } from './commands/convert.js';
import { runConvertWiderface } from './commands/convert-widerface.js';
import { runEval } from './commands/eval.js';
import { runTrain } from './commands/train.js';
import { runDetect } from './commands/detect.js';
import { runInfo } from './commands/info.js';
import { runLabel } from './commands/label.js';
import { runQuantize } from './commands/quantize.js';
import { runServe } from './commands/serve.js';
import { CALIBRATION_METHODS } from '../quantize/ranges.js';
import { DECODE_MODES, DEFAULT_DECODE_MODE, IMAGE_FILE_EXTENSIONS } from '../runtime/node/image.js';
import { BUNDLED_MODEL_NAMES, resolveModelArgument } from '../runtime/node/bundled-models.js';
import { WEIGHT_RANGES } from '../quantize/weights.js';
import type { CliIo } from './io.js';

const number = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
};
const collect = (value: string, previous: string[]): string[] => [...previous, value];
const numberList = (value: string): number[] => value.split(',').map(number);
const integer = (value: string): number => {
  const n = number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not an integer.`);
  return n;
};
const nonNegativeInteger = (value: string): number => {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError(`"${value}" is negative.`);
  return n;
};
const integerList = (value: string): number[] => value.split(',').map((v) => integer(v.trim()));
const inputSizeList = (value: string): InputSizeName[] =>
  value.split(',').map((v) => {
    const size = Number(v.trim());
    if (!isInputSizeName(size))
      throw new InvalidArgumentError(`"${v}": allowed sizes are ${INPUT_SIZE_NAMES.join(', ')}.`);
    return size;
  });
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

const decodeOption = (): Option =>
  new Option(
    '--decode <mode>',
    'JPEG decoding: scaled (at 1/2, 1/4 or 1/8 when twice the network input remains) or full (every pixel: ' +
      "upstream's exact input)",
  )
    .choices(DECODE_MODES)
    .default(DEFAULT_DECODE_MODE);

/**
 * The `ultraface` command line: thin declarations over library calls. Each action resolves to an exit code
 * through `setExitCode`, so the program can be driven in tests without spawning a process.
 */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const program = new Command('ultraface')
    .version(version)
    .description(
      'Ultra-light face detection: detect, evaluate, import upstream weights, export ONNX, quantize, inspect models',
    )
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    // A bad option value: its one-line error and where to look, not the whole help (each command names itself
    // below).
    .showHelpAfterError('(see ultraface --help)');

  program
    .command('detect')
    .description('detect faces in images and folders of images')
    .argument('<inputs...>', 'image files, folders (searched recursively), or - for one image on stdin')
    .option(
      '-m, --model <file|name>',
      `ONNX model, a bundled one: ${BUNDLED_MODEL_NAMES.join(', ')} (default: rfb-320), or upstream's ` +
        `weights: ${UPSTREAM_MODEL_NAMES.join(', ')} (downloaded once into the cache)`,
      resolveModelArgument,
    )
    .addOption(inputSizeOption())
    .option('-t, --threshold <score>', 'keep faces scoring above this', number, 0.7)
    .option('--iou <iou>', 'NMS IoU threshold', number, 0.3)
    .option('--top-k <n>', 'keep at most n faces per image (0: all)', nonNegativeInteger)
    .option('--candidate-size <n>', 'NMS candidates per image', integer)
    .option('--threads <n>', 'onnxruntime threads (default 1: inference beside decoding)', integer)
    .addOption(decodeOption())
    .option(
      '-o, --out <dir>',
      'write annotated copies (boxes and scores) to this folder; never over an input (refused)',
    )
    .option('--json', 'print one JSON line per image: {file, faces} or {file, error: {code, message}}')
    .addHelpText(
      'after',
      `
Each image is reported in its place (stdout; errors on stderr), then a summary
(stderr). A failing image does not stop the others: the exit status is 1 when
any image failed, or when no image was found at all.
Inputs: - reads one image from stdin (cat x.jpg | ultraface detect -); FIFOs
and /dev/stdin are read as files. Folders are searched for
${[...IMAGE_FILE_EXTENSIONS].join(' ')} files; symbolic links to files are followed.
--out: a folder argument's sub-folders are mirrored; clashing names get -2, -3
before the extension; GIF, TIFF, AVIF and stdin images are written as PNG. A
copy that would land on an input image is refused before anything runs.`,
    )
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
    'convert weights (.pth, .onnx, a training checkpoint .ckpt, or --upstream NAME) to an ultraface ONNX model',
  )
    .argument('[file]', 'a .pth (legacy or zip) or .onnx file with state-dict-named weights, or a .ckpt')
    .addOption(new Option('--upstream <name>', 'download official upstream weights').choices(UPSTREAM_NAMES))
    .option('--upstream-url <url>', 'mirror of upstream models/pretrained/ (default: GitHub)')
    .action(async (file: string | undefined, options: Parameters<typeof runConvert>[1]) => {
      setExitCode(await runConvert(file, options, io));
    });

  convertCommand('export', 'export an ultraface model, weights file or training checkpoint as ONNX')
    .argument(
      '<model>',
      'an ultraface .onnx, a .pth weights file, a training checkpoint (last.ckpt, best.ckpt), a bundled model, ' +
        `or upstream's weights (${UPSTREAM_MODEL_NAMES.join(', ')})`,
      resolveModelArgument,
    )
    .action(async (file: string, options: Parameters<typeof runConvert>[1]) => {
      setExitCode(
        await runConvert(file, { ...options, upstream: undefined as UpstreamName | undefined }, io),
      );
    });

  program
    .command('average')
    .description(
      'average the weights of models of one network and lineage (a model soup): checkpoints, .pth, unfolded ONNX',
    )
    .argument('<models...>', 'two or more training checkpoints (.ckpt), .pth files or --no-fold-bn exports')
    .requiredOption('-o, --out <file>', 'the ONNX model to write')
    .option(
      '--weights <list>',
      'one weight ≥ 0 per model, e.g. 1,3 (default: equal; 0: a model used in --part only)',
      numberList,
    )
    .option(
      '--part <prefix=list>',
      'another mix for the tensors under a name prefix, one weight ≥ 0 per model, e.g. ' +
        'classification_headers.0=1,0 (repeatable; the longest matching prefix rules)',
      collect,
      [],
    )
    .addOption(inputSizeOption())
    .option('--raw', 'leave box decoding out of the graph (boxes = raw SSD regression)')
    .option('--no-fold-bn', 'keep BatchNorm nodes instead of folding them into the convolutions')
    .action(async (files: string[], options: Parameters<typeof runAverage>[1]) => {
      setExitCode(await runAverage(files, options, io));
    });

  program
    .command('train')
    .description('train a detector on Pascal-VOC and WIDER FACE folders (upstream recipe by default)')
    .requiredOption(
      '--dataset <[voc:|wider:]root[:weight]>',
      'training data, repeatable: a VOC folder or a WIDER FACE train root (WIDER_train/images, ' +
        'wider_face_split/); weight = copies per epoch (e.g. wider:data/widerface-train-1k:2)',
      collect,
      [],
    )
    .option('--split <name>', 'training split of VOC datasets', 'trainval')
    .option(
      '--wider-min-face <px>',
      'WIDER faces narrower or shorter than this become ignore regions (default 10, upstream on full-size photos; ' +
        '7.8 for a copy resized from 1024 to 800 px wide)',
      number,
    )
    .option('--val-dataset <root>', 'validation VOC folder (validation loss and AP50)')
    .option('--val-split <name>', 'validation split', 'test')
    .option('--val-wider <root>', 'WIDER val root: easy/medium/hard AP at each validation')
    .option(
      '--teacher <weights>',
      'distil from this model (.pth, .onnx, upstream:NAME; same priors at the training input size): its outputs on each batch ' +
        'become extra targets; never its weights',
    )
    .option('--distill <cls,reg>', 'distillation loss weights (KL on classes, box term)', numberList, [1, 1])
    .option(
      '--teacher-ignore <p>',
      'background priors the teacher scores ≥ p as a face are ignored, not mined as negatives (1: off)',
      number,
      0.5,
    )
    .addOption(
      new Option(
        '--teacher-input <view>',
        'what the teacher reads: the batch as the student does (augmented), or the same crops without the colour ' +
          'distortion (undistorted; default augmented)',
      ).choices(['augmented', 'undistorted']),
    )
    .option(
      '--distill-annotated <iou>',
      'no distillation at priors overlapping an annotated face at IoU ≥ this: there the annotation alone rules ' +
        '(default: only at its positives)',
      number,
    )
    .option(
      '--distill-positive-boxes',
      "the teacher's box term also at the annotation's positive priors (its class term never there): the student " +
        'places annotated faces as the teacher does; not with --distill-annotated',
    )
    .option(
      '--distill-box-max-prior <px>',
      "the teacher's box term only at priors at most this wide at the input, e.g. 24 (the first level: 10, 16, " +
        "24 px): small faces take the teacher's placement, larger ones keep the annotation's box style",
      number,
    )
    .option(
      '--distill-box-min-face <p>',
      "the teacher's box term only at priors it scores ≥ p as a face, e.g. 0.3 (default: at every prior, " +
        'weighted by that probability)',
      number,
    )
    .option(
      '--distill-box-datasets <list>',
      "the teacher's box term only on the images of these --dataset entries, counted from 1, e.g. 2; its class " +
        'term and ignore still on every image it teaches (default: the box term wherever the teacher teaches)',
      integerList,
    )
    .option(
      '--distill-features <weight>',
      "attention transfer: pull where the student's stride-8 features are active (under the smallest priors) " +
        "towards the teacher's; weight on the squared distance of the normalized maps, e.g. 100",
      number,
    )
    .option(
      '--distill-datasets <list>',
      'distil only on the images of these --dataset entries, counted from 1 in the order given, e.g. 2 ' +
        '(default: all)',
      integerList,
    )
    .addOption(new Option('--net <name>', 'network').choices(['RFB', 'slim']).default('RFB'))
    .addOption(inputSizeOption().default(320))
    .option('--epochs <n>', 'epochs', integer, 200)
    .option('--batch-size <n>', 'images per step', integer, 24)
    .option('--lr <lr>', 'base learning rate', number, 0.01)
    .option('--momentum <m>', 'SGD momentum', number, 0.9)
    .option('--weight-decay <wd>', 'SGD weight decay', number, 5e-4)
    .addOption(
      new Option('--schedule <kind>', 'learning-rate schedule')
        .choices(['multi-step', 'cosine', 'poly'])
        .default('multi-step'),
    )
    .option('--milestones <list>', 'multi-step: epochs where the LR drops x0.1', integerList, [95, 150])
    .option('--t-max <n>', 'cosine: period in epochs', integer, 120)
    .option('--warmup <steps>', 'linear LR warm-up over this many steps', integer, 0)
    .option(
      '--match-iou <iou>',
      "prior matching: priors at this IoU or more with a face are its positives, as is each face's best prior " +
        "(default: upstream's 0.35)",
      number,
    )
    .option(
      '--ignore-small-background <list>',
      'in the images of these --dataset entries (counted from 1, e.g. 1), background priors of the smallest level ' +
        '(10, 16, 24 px) are ignored, never mined as negatives: for datasets that annotate few small faces',
      integerList,
    )
    .option(
      '--augment <preset|file>',
      'augmentation: default (crop, zoom-out), upstream, none, or a JSON file of options over a preset, e.g. ' +
        '{"preset": "default", "expand": {"probability": 0.6, "maxRatio": 4}}',
      'default',
    )
    .addOption(
      new Option('--freeze <part>', 'do not train these layers').choices(['base_net', 'base_net+extras']),
    )
    .option(
      '--train-only <prefixes>',
      'train only the layers under these state-dict name prefixes, e.g. base_net.7,classification_headers.0 ' +
        '(the path of the smallest faces); the others keep their weights and BatchNorm statistics',
      (value: string) => value.split(',').map((v) => v.trim()),
    )
    .option(
      '--init <weights>',
      'start from these weights (.onnx, .pth, a bundled name or upstream:NAME) instead of a fresh initialisation',
    )
    .option('--seed <n>', 'random seed', integer, 0)
    .option('--validate-every <n>', 'validate every n epochs (and after the last)', integer, 5)
    .option('--checkpoint-every <steps>', 'also save last.ckpt every this many steps', integer, 100)
    .option('--keep-validated', 'also keep the weights of every validated epoch as <out>/epoch-<n>.ckpt')
    .option('--workers <n>', 'batch-building worker threads', integer, 1)
    .option('--threads <n>', 'onnxruntime threads in all (default: one per core)', integer)
    .option(
      '--shards <n>',
      'split each batch over n onnxruntime sessions, threads/n threads each (default: one per thread; 1: one session)',
      integer,
    )
    .option('--max-steps <n>', 'stop (resumably) once the run has taken this many steps', integer)
    .requiredOption('-o, --out <dir>', 'run folder: checkpoints, history, loss-curve.svg, model.onnx')
    .option('--resume', 'continue from <out>/last.ckpt (an error when there is none)')
    .option('--overwrite', 'replace the run in <out> (without it a folder holding a run is refused)')
    .action(async (options: Parameters<typeof runTrain>[0]) => {
      setExitCode(await runTrain(options, io));
    });

  program
    .command('eval')
    .description('measure accuracy: WIDER FACE easy/medium/hard AP (official protocol) or VOC AP50')
    .option(
      '-m, --model <file|name>',
      `the model to evaluate (.onnx, weights ultraface import reads, ${BUNDLED_MODEL_NAMES.join(', ')}, ` +
        `or upstream's: ${UPSTREAM_MODEL_NAMES.join(', ')}; default: rfb-320)`,
      resolveModelArgument,
    )
    .option('--wider <root>', 'WIDER root: WIDER_val/images and eval_tools/ground_truth/*.mat')
    .option('--voc <root>', 'Pascal-VOC root: AP at IoU 0.5 on --split')
    .option('--split <name>', 'VOC split (default test)')
    .addOption(
      new Option(
        '--protocol <name>',
        'how images are resized: ulfd (fixed), vga (longest side 640), original',
      )
        .choices(EVAL_PROTOCOLS)
        .default('ulfd'),
    )
    .option('--threads <n>', 'onnxruntime threads (default 1)', integer)
    .addOption(decodeOption())
    .option('-o, --out <dir>', 'write predictions, summary.json and pr-curves.svg here')
    .action(async (options: Parameters<typeof runEval>[0]) => {
      setExitCode(await runEval(options, io));
    });

  program
    .command('label')
    .description(
      "complete a dataset's face boxes with teacher models: a new VOC folder with every human box, plus the " +
        "teachers' confident faces as faces and their uncertain ones as ignore regions",
    )
    .requiredOption('--dataset <[voc:|wider:]root>', 'the dataset: a VOC folder or a WIDER FACE train root')
    .option('--split <name>', 'VOC split to read (and the split written)', 'trainval')
    .option(
      '--wider-min-face <px>',
      'WIDER faces narrower or shorter than this are ignore regions (default 10; 7.8 for a copy at 800 px wide)',
      number,
    )
    .requiredOption(
      '--teacher <model>',
      'a teacher (any model ultraface loads: .onnx, .pth, a bundled name); repeatable',
      collect,
      [],
    )
    .option('--sizes <list>', 'input sizes each teacher runs at, e.g. 640,1280', inputSizeList, [640])
    .option('--no-flip', 'do not also run each teacher on the mirrored image')
    .option('--high <score>', 'fused score from which a teacher face is added as a face', number, 0.7)
    .option('--low <score>', 'fused score from which it is added as an ignore region', number, 0.3)
    .option('--fuse-iou <iou>', 'IoU above which boxes of different runs are one face', number, 0.55)
    .option(
      '--promote-ignored',
      "make a human ignore region (WIDER's invalid and under-10 px faces, VOC difficult) a face where a teacher " +
        'face scoring ≥ --high covers it',
    )
    .option('--threads <n>', 'onnxruntime threads (default 1)', integer)
    .requiredOption('-o, --out <dir>', 'the VOC folder to write (built in <dir>.partial; a rerun resumes)')
    .option('--overwrite', 'replace an existing <dir>')
    .action(async (options: Parameters<typeof runLabel>[0]) => {
      setExitCode(await runLabel(options, io));
    });

  program
    .command('convert-widerface')
    .description('convert WIDER FACE (images + split txt or label.txt) to a Pascal-VOC folder for training')
    .requiredOption('--images <dir>', 'folder of <event>/<name>.jpg, e.g. WIDER_train/images')
    .requiredOption('--annotations <file>', 'wider_face_train_bbx_gt.txt or a RetinaFace label.txt')
    .requiredOption('-o, --out <dir>', 'the VOC folder to create')
    .option('--min-size <px>', 'drop faces narrower or shorter than this', integer, 10)
    .option('--split <name>', 'ImageSets/Main/<name>.txt (default trainval for train, test for val)')
    .option('--overwrite', 'replace an existing output folder')
    .action(async (options: Parameters<typeof runConvertWiderface>[0]) => {
      setExitCode(await runConvertWiderface(options, io));
    });

  program
    .command('quantize')
    .description('quantize a model to int8 (QDQ ONNX, ~310 KB for RFB-320), calibrated on images')
    .argument(
      '<model>',
      'an ultraface .onnx (fp32), weights ultraface import reads, a bundled model (rfb-320, …), or upstream:rfb-320, …',
      resolveModelArgument,
    )
    .requiredOption('--calibration <path>', 'a folder of images, a Pascal-VOC root, or a VOC split file')
    .requiredOption('-o, --out <file>', 'the int8 ONNX file to write')
    .option('--split <name>', 'VOC split when --calibration is a VOC root (default trainval)')
    .option('--images <n>', 'calibration images, spread over the source (default 100)', integer)
    .addOption(
      new Option('--method <name>', 'activation ranges: minmax (default), percentile, entropy').choices(
        CALIBRATION_METHODS,
      ),
    )
    .option(
      '--percentile <p>',
      'with --method percentile: share of |x| kept, in percent (default 99.99)',
      number,
    )
    .option('--per-channel', 'one weight scale per output channel (default)')
    .option('--no-per-channel', 'one weight scale per tensor')
    .option('--no-equalize', 'do not rescale channels between convolutions')
    .option('--no-bias-correction', 'do not correct biases for weight rounding')
    .addOption(
      new Option(
        '--weight-range <name>',
        'int8 weight bounds: pairwise (default, safe on AVX2), reduced (7-bit), full (VNNI/Arm only)',
      ).choices(WEIGHT_RANGES),
    )
    .option('--float-convs <names>', 'comma-separated convs to keep in float, e.g. base_net.0.0')
    .addOption(inputSizeOption())
    .option('--threads <n>', 'onnxruntime threads for calibration', integer)
    .option('--json', 'print the report as JSON')
    .action(async (model: string, options: Parameters<typeof runQuantize>[1]) => {
      setExitCode(await runQuantize(model, options, io));
    });

  program
    .command('info')
    .description('describe a model: network, input size, priors, parameters, FLOPs')
    .argument(
      '<model>',
      `an .onnx or .pth file, a bundled model (${BUNDLED_MODEL_NAMES.join(', ')}), or upstream's ` +
        `(${UPSTREAM_MODEL_NAMES.join(', ')})`,
      resolveModelArgument,
    )
    .option('--json', 'print JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      setExitCode(await runInfo(file, options, io));
    });

  program
    .command('serve')
    .description('HTTP face-detection service: POST /v1/detect, /healthz, /readyz, /metrics, /openapi.json')
    .option('-p, --port <n>', 'TCP port (0: any free one)', integer, 8080)
    .option('--host <address>', 'interface to listen on (0.0.0.0: all)', '127.0.0.1')
    .option(
      '-m, --model <file|name>',
      `ONNX model or a bundled one: ${BUNDLED_MODEL_NAMES.join(', ')} (default: rfb-320)`,
    )
    .option('--max-body <size>', 'largest request body, e.g. 20mb, 512kb', '20mb')
    .option('--max-pixels <n>', 'refuse images with more pixels (read from the header)', integer, 50_000_000)
    .option('--concurrency <n>', 'images decoded at once (default: CPUs, at least 2)', integer)
    .option('--max-batch <n>', 'most images per inference call (1: no batching)', integer, 16)
    .option('--batch-window-ms <ms>', 'how long an image waits for others to share its call', number, 2)
    .option('--max-queue <n>', 'requests admitted at once; more get 503 + Retry-After', integer, 256)
    .option('--timeout-ms <ms>', 'answer 504 when a request takes longer', integer, 10_000)
    .option('--threads <n>', 'onnxruntime threads (default 1)', integer)
    .addOption(decodeOption())
    .action(async (options: Parameters<typeof runServe>[0]) => {
      setExitCode(await runServe(options, io));
    });

  for (const command of program.commands)
    command.showHelpAfterError(`(see ultraface ${command.name()} --help)`);
  return program;
}
