// The public declarations compile in a strict consumer project (`skipLibCheck: false`): the package's types must
// not reach onnx-proto's, which name a global `Long` that no installed package declares (TS2304 in consumers).
//
// The package is built (declarations only) into a temporary folder, packed with `npm pack` and unpacked into a
// consumer's node_modules/ultraface as npm would lay it out. Its dependencies are links to this repository's
// node_modules rather than an `npm install` of the tarball, which would fetch or unpack every dependency
// (onnxruntime-node, sharp, ...) and take minutes; the files the consumer compiles against are the packed ones.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../helpers/shared.js';

const run = promisify(execFile);
const TSC = join(PACKAGE_ROOT, 'node_modules/typescript/bin/tsc');

interface Manifest {
  readonly dependencies: Record<string, string>;
}

/** Runs the repository's tsc; resolves with its exit code and output (tsc reports errors on stdout). */
async function tsc(args: readonly string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, ...args], { cwd, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

const CONSUMER_SOURCE = `import {
  BUNDLED_MODELS,
  createFaceDetector,
  quantizeModel,
  readWeightsFile,
  UltrafaceError,
  type Detection,
  type FaceDetector,
  type ImportedWeights,
  type QuantizeReport,
  type ResolvedModel,
} from 'ultraface';
import { generatePriors, INPUT_SIZES } from 'ultraface/core';
import { createFaceDetector as createWebFaceDetector, type FaceDetector as WebFaceDetector } from 'ultraface/web';

export async function main(): Promise<void> {
  const detector: FaceDetector = await createFaceDetector({ model: BUNDLED_MODELS['rfb-320'] });
  const faces: Detection[] = await detector.detect('photo.jpg');
  const model: ResolvedModel = detector.model;
  const weights: ImportedWeights = readWeightsFile(new Uint8Array(0));
  const report: QuantizeReport = (await quantizeModel({ model: 'm.onnx', calibration: 'images/' })).report;
  const web: WebFaceDetector = await createWebFaceDetector({ model: '/models/rfb-320.onnx' });
  console.log(faces.length, model.inputSize, weights.format, report.agreement, generatePriors(INPUT_SIZES[320]).length);
  await web.dispose();
  await detector.dispose();
  if (faces.length < 0) throw new UltrafaceError('E_INVALID_INPUT', 'never');
}
`;

describe('the packed package type-checks in a strict consumer project', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-consumer-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ultraface, ultraface/core and ultraface/web compile with skipLibCheck: false', async () => {
    // 1. Build the declarations as `npm run build` lays them out (dist/, dist/runtime/web/).
    const staging = join(dir, 'staging');
    const dist = join(staging, 'dist');
    const common = [
      '--outDir',
      dist,
      '--emitDeclarationOnly',
      '--declarationMap',
      'false',
      '--sourceMap',
      'false',
    ];
    const node = await tsc(['-p', 'tsconfig.build.json', ...common], PACKAGE_ROOT);
    const web = await tsc(['-p', 'src/runtime/web/tsconfig.build.json', ...common], PACKAGE_ROOT);
    for (const entry of ['index.d.ts', 'core/index.d.ts', 'runtime/web/index.d.ts']) {
      assert.ok(existsSync(join(dist, entry)), `${entry} was not built:\n${node.output}\n${web.output}`);
    }
    const manifestText = readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8');
    writeFileSync(join(staging, 'package.json'), manifestText);

    // 2. Pack it, and unpack the tarball where npm would install it.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
      cwd: staging,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
    const consumer = join(dir, 'consumer');
    const installed = join(consumer, 'node_modules/ultraface');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    assert.ok(existsSync(join(installed, 'dist/index.d.ts')));

    // 3. Its dependencies (and @types/node) as links to this repository's installed copies.
    const { dependencies } = JSON.parse(manifestText) as Manifest;
    for (const name of [...Object.keys(dependencies), '@types/node']) {
      const target = join(PACKAGE_ROOT, 'node_modules', name);
      if (!existsSync(target)) continue;
      const link = join(consumer, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(target, link, 'dir');
    }

    // 4. A strict ESM consumer.
    writeFileSync(
      join(consumer, 'package.json'),
      '{ "name": "consumer", "private": true, "type": "module" }\n',
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['index.ts'],
      }),
    );
    writeFileSync(join(consumer, 'index.ts'), CONSUMER_SOURCE);
    const checked = await tsc(['-p', 'tsconfig.json'], consumer);
    assert.equal(checked.code, 0, `tsc in the consumer project:\n${checked.output}`);
  });
});
