/**
 * A static file server for the demo (and the browser tests): loopback only, no directory listings, and the two
 * headers that make the page cross-origin isolated, which onnxruntime-web needs for wasm threads
 * (SharedArrayBuffer). Any static host works the same way if it sends these headers and `.wasm` as
 * `application/wasm`.
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
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const root = resolve(options.root);
  const isolated = options.isolated ?? true;
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      let file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) {
        response.writeHead(403).end();
        return;
      }
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        const info = await stat(file);
        response.writeHead(200, {
          'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Length': info.size,
          'Cache-Control': 'no-cache',
          ...(isolated
            ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
            : {}),
          'Cross-Origin-Resource-Policy': 'same-origin',
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
