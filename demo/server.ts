/**
 * A static file server for the demo (and the browser tests): loopback only, no directory listings, and the two
 * headers that make the page cross-origin isolated, which onnxruntime-web needs for wasm threads
 * (SharedArrayBuffer). Any static host works the same way if it sends these headers and `.wasm` as
 * `application/wasm`. Sample photos are served from where they lie (../shared), never copied: `/samples/<file>`
 * and the list `/samples/index.json`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

export interface DemoServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface DemoServerOptions {
  /** The folder to serve. */
  readonly root: string;
  readonly host?: string;
  /** 0 for any free port. */
  readonly port?: number;
  /** Send COOP/COEP so the page is cross-origin isolated (default true). */
  readonly isolated?: boolean;
  /** Photos the page offers as samples, the first one shown on opening. */
  readonly samples?: DemoSamples;
}

export interface DemoSamples {
  readonly dir: string;
  /** File names in `dir`. */
  readonly files: readonly string[];
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const root = resolve(options.root);
  const isolated = options.isolated ?? true;
  const policy = {
    ...(isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {}),
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      let file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) {
        response.writeHead(403).end();
        return;
      }
      if (path === '/samples/index.json') {
        const body = JSON.stringify(options.samples?.files ?? []);
        response.writeHead(200, { 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-cache', ...policy });
        response.end(body);
        return;
      }
      const sample = path.startsWith('/samples/') ? path.slice('/samples/'.length) : undefined;
      if (sample !== undefined && options.samples?.files.includes(sample)) {
        file = join(options.samples.dir, sample);
      }
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        const info = await stat(file);
        response.writeHead(200, {
          'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Length': info.size,
          'Cache-Control': 'no-cache',
          ...policy,
        });
        if (request.method === 'HEAD') response.end();
        else createReadStream(file).pipe(response);
      } catch {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      }
    })();
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', done);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
}
