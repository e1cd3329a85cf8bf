/**
 * Issue #4's resume check at full scale: a 2-epoch `ultraface train` run on faces-voc, killed with SIGKILL in the
 * middle of its second epoch and resumed with --resume, must end in the state of an uninterrupted run with the
 * same seed: the same per-epoch losses and bit-identical weights, BN statistics and momentum buffers.
 *
 *   node --import tsx scripts/kill-resume-check.ts [--net slim] [--input-size 128] [--out .tmp/kill-resume]
 *
 * Every onnxruntime session runs on one thread (2 shards x 1 thread, the default on 2 cores), so the runs are
 * bit-deterministic; the check asserts exact equality.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { decodeCheckpoint } from '../src/train/checkpoint.js';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: 'slim' },
    'input-size': { type: 'string', default: '128' },
    out: { type: 'string', default: '.tmp/kill-resume' },
    dataset: { type: 'string', default: new URL('../../shared/data/faces-voc', import.meta.url).pathname },
  },
});
const root = values.out;
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

const args = (out: string): string[] => [
  '--import',
  'tsx',
  new URL('../src/cli/main.ts', import.meta.url).pathname,
  'train',
  '--dataset',
  values.dataset,
  '--net',
  values.net,
  '--input-size',
  values['input-size'],
  '--epochs',
  '2',
  '--batch-size',
  '24',
  '--warmup',
  '50',
  '--seed',
  '7',
  '--checkpoint-every',
  '20',
  '--threads',
  '2',
  '--shards',
  '2',
  '-o',
  out,
];

interface State {
  step: number;
  position: { epoch: number; batch: number };
  history: { epoch: number; lossRegression: number; lossClassification: number }[];
}
const stateOf = (out: string): State | undefined => {
  try {
    return decodeCheckpoint<State>(readFileSync(join(out, 'last.ckpt'))).state;
  } catch {
    return undefined; // not written yet (or being replaced)
  }
};

function run(out: string, extra: string[], killWhen?: (state: State) => boolean): Promise<number | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args(out), ...extra], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let poll: NodeJS.Timeout | undefined;
    if (killWhen) {
      poll = setInterval(() => {
        const state = existsSync(join(out, 'last.ckpt')) ? stateOf(out) : undefined;
        if (state && killWhen(state)) {
          clearInterval(poll);
          console.log(
            `SIGKILL at checkpoint step ${state.step} (epoch ${state.position.epoch + 1}, batch ${state.position.batch})`,
          );
          child.kill('SIGKILL');
        }
      }, 200);
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      resolve(signal === 'SIGKILL' ? 'killed' : (code ?? 1));
    });
  });
}

const started = performance.now();
const straight = join(root, 'straight');
const killed = join(root, 'killed');
console.log(`uninterrupted run → ${straight}`);
if ((await run(straight, [])) !== 0) throw new Error('the uninterrupted run failed');
const straightSeconds = (performance.now() - started) / 1000;
console.log(`interrupted run → ${killed}`);
// kill once a mid-epoch checkpoint of the second epoch exists (steps continue past it before the kill lands)
const outcome = await run(killed, [], (s) => s.position.epoch === 1 && s.position.batch >= 60);
if (outcome !== 'killed') throw new Error(`the run to interrupt ended on its own (${outcome})`);
const before = stateOf(killed)!;
console.log(`resuming from step ${before.step}`);
if ((await run(killed, ['--resume'])) !== 0) throw new Error('the resumed run failed');

const a = decodeCheckpoint<State>(readFileSync(join(straight, 'last.ckpt')));
const b = decodeCheckpoint<State>(readFileSync(join(killed, 'last.ckpt')));
let differing = 0;
let maxRelative = 0;
for (const [name, ta] of a.tensors) {
  const tb = b.tensors.get(name);
  if (!tb || tb.data.length !== ta.data.length) throw new Error(`tensor ${name} missing or resized`);
  for (let i = 0; i < ta.data.length; i++) {
    const x = Number(ta.data[i]);
    const y = Number(tb.data[i]);
    if (x !== y) {
      differing++;
      maxRelative = Math.max(maxRelative, Math.abs(x - y) / Math.max(Math.abs(x), 1e-12));
    }
  }
}
const models = [straight, killed].map((d) => readFileSync(join(d, 'model.onnx')));
console.log('\nper-epoch mean losses (uninterrupted | killed + resumed):');
for (const [i, h] of a.state.history.entries()) {
  const k = b.state.history[i];
  console.log(
    `  epoch ${h.epoch + 1}: reg ${h.lossRegression} | ${k.lossRegression}; cls ${h.lossClassification} | ${k.lossClassification}`,
  );
}
console.log(`steps: ${a.state.step} | ${b.state.step}`);
console.log(
  `tensors: ${a.tensors.size}, values differing: ${differing} (max relative difference ${maxRelative})`,
);
console.log(`model.onnx identical: ${Buffer.compare(models[0], models[1]) === 0}`);
console.log(
  `uninterrupted run: ${straightSeconds.toFixed(0)} s; all: ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
const same =
  differing === 0 &&
  a.state.step === b.state.step &&
  JSON.stringify(a.state.history.map((h) => [h.lossRegression, h.lossClassification])) ===
    JSON.stringify(b.state.history.map((h) => [h.lossRegression, h.lossClassification]));
console.log(same ? 'PASS: bit-identical' : 'FAIL: the runs differ');
process.exitCode = same ? 0 : 1;
