import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type RawData } from 'ws';
import type { EngineHandler } from '../contract/EngineHandler';
import { serveEngineOnWire } from '../contract/serveEngineOnWire';
import { contentSecurityPolicy } from '../electron/contentSecurityPolicy';

export interface WebServerOptions {
  engine: EngineHandler;
  /** The built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Fixed token for tests; normally 32 random bytes. */
  token?: string;
}

export interface WebServer {
  /** The one URL that opens the editor: http://127.0.0.1:PORT/?token=… */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const TOKEN_COOKIE = 'pentimento_token';
export const ENGINE_SOCKET_PATH = '/engine';
const HOST = '127.0.0.1';
// Source photos travel base64-encoded; a 40-megapixel PNG is still well under this.
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * Serves the built renderer and the engine's WebSocket on 127.0.0.1 only. Every request needs
 * the secret token, as `?token=` (the printed URL) or as the HttpOnly SameSite=Strict cookie
 * that the first tokened request sets, so other local users and web pages cannot drive the
 * engine. The WebSocket upgrade additionally needs an Origin and Host of this very server,
 * which stops other sites (and DNS rebinding) from connecting with the user's cookie.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const rendererDir = path.resolve(opts.rendererDir);
  let port = 0;

  const allowedHosts = () => [`${HOST}:${port}`, `localhost:${port}`];
  const hasToken = (req: IncomingMessage, url: URL) =>
    sameSecret(url.searchParams.get('token') ?? undefined, token) || sameSecret(cookieValue(req, TOKEN_COOKIE), token);

  const server = createServer((req, res) => serveHttp(req, res));

  function refuse(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(message + '\n');
  }

  function serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (!allowedHosts().includes(req.headers.host ?? '')) return refuse(res, 403, 'Unexpected Host header.');
    if (!hasToken(req, url)) {
      return refuse(res, 401, 'Pentimento needs its access token: open the URL that `npm run web` printed.');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET and HEAD are served.');

    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      return refuse(res, 400, 'Malformed path.');
    }
    if (relative === '/' || relative === '') relative = '/index.html';
    const file = path.resolve(rendererDir, '.' + relative);
    if (file !== rendererDir && !file.startsWith(rendererDir + path.sep)) return refuse(res, 404, 'Not found.');
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (relative === '/index.html') {
        return refuse(res, 500, `The renderer is not built (no ${file}); run \`npm run build\` first.`);
      }
      return refuse(res, 404, 'Not found.');
    }

    const headers: Record<string, string | string[]> = {
      'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Security-Policy': contentSecurityPolicy({ header: true }),
      'X-Content-Type-Options': 'nosniff',
      // The token is in the page URL; never hand it to anything the page links to.
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    };
    if (sameSecret(url.searchParams.get('token') ?? undefined, token)) {
      headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const reject = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== ENGINE_SOCKET_PATH) return reject('404 Not Found');
    if (!allowedHosts().includes(req.headers.host ?? '')) return reject('403 Forbidden');
    const origin = req.headers.origin ?? '';
    if (!allowedHosts().some((h) => origin === `http://${h}`)) return reject('403 Forbidden');
    if (!hasToken(req, url)) return reject('401 Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });

  sockets.on('connection', (ws) => {
    const endpoint = serveEngineOnWire(opts.engine, (message) => ws.send(JSON.stringify(message)));
    ws.on('message', (data: RawData) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return; // Not our protocol; nothing to answer to.
      }
      endpoint.receive(message);
    });
    ws.on('close', () => endpoint.close());
    ws.on('error', () => endpoint.close());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
