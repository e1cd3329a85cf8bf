/**
 * npm run bench:serve — `ultraface serve` under load (issue 17), all figures from one run:
 *
 * - autocannon against 127.0.0.1 posting the 24 upstream test images (raw JPEG bodies, cycled), bounded in time,
 *   at 1, 8 and 64 connections: requests/s, p50/p99 latency, errors (connection errors + non-2xx), 5xx;
 * - two servers side by side, batching on (defaults: up to 16 images per call, 2 ms window) and off
 *   (--max-batch 1), each in its own process (`ultraface serve` via tsx), interleaved per connection count;
 * - the ceiling: the same images (bytes in memory) through `detect()` in this process, with as many calls in
 *   flight as there are connections; server overhead = server req/s / in-process img/s.
 *
 * `--soak` adds 60 s at 64 connections on the batching server, sampling its RSS (`process_resident_memory_bytes`
 * from /metrics) every 2 s: flat means every sample from 10 s on within ±10 % of their median; the drift (mean of
 * the last third over the first third) shows a trend apart from the GC sawtooth.
 * `--duration <s>` sets each measured run (default 10 s; a 1 s warm-up precedes each server's first run).
 *
 * Numbers are machine-dependent, and depressed when other work shares the cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import { createFaceDetector } from '../src/runtime/node/detector.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMAGES = join(ROOT, '../shared/reference/upstream/imgs');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const DURATION = Number(flag('--duration') ?? process.env.BENCH_DURATION ?? 10);
const SOAK = args.includes('--soak');
const SOAK_SECONDS = Number(flag('--soak-seconds') ?? 60);
const CONNECTIONS = (flag('--connections') ?? '1,8,64').split(',').map(Number);

const images = readdirSync(IMAGES)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => readFileSync(join(IMAGES, f)));

interface Server {
  readonly label: string;
  readonly url: string;
  readonly child: ChildProcess;
}

/** Starts `ultraface serve` in its own process, so that the load generator does not share its event loop. */
async function startServer(label: string, extra: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', ...extra],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => {
      reject(new Error(`${label} server exited (${code}): ${output}`));
    });
  });
  return { label, url, child };
}

async function stopServer(server: Server): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGTERM');
  return exited;
}

interface Row {
  label: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  fivexx: number;
}

async function load(server: Server, connections: number, seconds: number): Promise<Row> {
  const result = await autocannon({
    url: `${server.url}/v1/detect`,
    connections,
    duration: seconds,
    timeout: 30,
    requests: images.map((body) => ({
      method: 'POST' as const,
      path: '/v1/detect',
      headers: { 'content-type': 'image/jpeg' },
      body,
    })),
  });
  return {
    label: server.label,
    connections,
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    fivexx: result['5xx'],
  };
}

/** The ceiling: `connections` loops of `detect()` on in-memory bytes in this process, for `seconds`. */
async function inProcess(connections: number, seconds: number): Promise<Row> {
  const detector = await createFaceDetector();
  try {
    const latencies: number[] = [];
    let next = 0;
    const end = performance.now() + seconds * 1000;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        const start = performance.now();
        await detector.detect(images[next++ % images.length]);
        latencies.push(performance.now() - start);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: connections }, loop));
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      label: 'detect() in-process',
      connections,
      rps: latencies.length / elapsed,
      p50: at(0.5),
      p99: at(0.99),
      errors: 0,
      fivexx: 0,
    };
  } finally {
    await detector.dispose();
  }
}

async function rss(server: Server): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

const on = await startServer('serve, batching on', []);
const off = await startServer('serve, batching off', ['--max-batch', '1']);
try {
  // Warm-up: first runs pay for lazy initialisation (onnxruntime arenas, sharp, JIT).
  await load(on, 8, 1);
  await load(off, 8, 1);
  await inProcess(8, 1);

  const rows: Row[] = [];
  const ratios: string[][] = [
    ['connections', 'batching on / off', 'server (on) / in-process', 'server (off) / in-process'],
  ];
  for (const connections of CONNECTIONS) {
    const ceiling = await inProcess(connections, DURATION);
    const batched = await load(on, connections, DURATION);
    const single = await load(off, connections, DURATION);
    rows.push(ceiling, batched, single);
    ratios.push([
      String(connections),
      `${(batched.rps / single.rps).toFixed(2)}x`,
      (batched.rps / ceiling.rps).toFixed(2),
      (single.rps / ceiling.rps).toFixed(2),
    ]);
  }

  const table = (header: string[], body: string[][]): string =>
    [header, header.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
  console.log(
    `\n${images.length} upstream test images (${(images.reduce((a, b) => a + b.length, 0) / 1024).toFixed(0)} KiB), ` +
      `${DURATION} s per run, model rfb-320\n`,
  );
  console.log(
    table(
      ['', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'errors', '5xx'],
      rows.map((r) => [
        r.label,
        String(r.connections),
        r.rps.toFixed(1),
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        String(r.errors),
        String(r.fivexx),
      ]),
    ),
  );
  console.log(`\n${table(ratios[0], ratios.slice(1))}\n`);
  const fivexx = rows.reduce((sum, r) => sum + r.fivexx, 0);
  console.log(`5xx in all runs: ${fivexx} (queue limit 256 > 64 connections: expected 0)`);

  if (SOAK) {
    console.log(`\nSoak: ${SOAK_SECONDS} s at 64 connections on the batching server, RSS every 2 s`);
    const samples: { t: number; rss: number }[] = [];
    const start = performance.now();
    const run = load(on, 64, SOAK_SECONDS);
    const state = { done: false };
    void run.finally(() => (state.done = true));
    while (!state.done) {
      samples.push({ t: (performance.now() - start) / 1000, rss: await rss(on) });
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const result = await run;
    const settled = samples.filter((s) => s.t >= 10).map((s) => s.rss);
    const sorted = [...settled].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const low = sorted[0] / median - 1;
    const high = sorted[sorted.length - 1] / median - 1;
    const third = Math.max(1, Math.floor(settled.length / 3));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const drift = mean(settled.slice(-third)) / mean(settled.slice(0, third)) - 1;
    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
    console.log(
      `req/s ${result.rps.toFixed(1)}, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ` +
        `errors ${result.errors}, 5xx ${result.fivexx}`,
    );
    console.log(`RSS samples: ${samples.map((s) => `${s.t.toFixed(0)}s ${mb(s.rss)}`).join(', ')}`);
    const flat = Math.max(-low, high) <= 0.1;
    console.log(
      `RSS from 10 s on: median ${mb(median)}, range ${pct(low)} … ${pct(high)} of it ` +
        `(${flat ? 'flat, within ±10 %' : 'NOT within ±10 %'}); last third vs first third ${pct(drift)}`,
    );
  }
} finally {
  const codes = await Promise.all([stopServer(on), stopServer(off)]);
  console.log(`servers drained and exited with ${codes.join(', ')}`);
}
