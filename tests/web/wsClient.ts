import WebSocket from 'ws';
import type { WireMessage, WireResponse, WireEvent } from '../../main/contract/contract';

/** Opens a ws connection; resolves with the socket, or with the HTTP status that refused it. */
export function connect(url: string, origin?: string, headers?: Record<string, string>): Promise<WebSocket | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin, headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

/** A minimal wire peer for tests: numbered requests, and every event kept in arrival order. */
export class TestPeer {
  readonly events: WireEvent[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (r: WireResponse) => void>();
  private readonly eventWaiters: { test: (e: WireEvent) => boolean; resolve: (e: WireEvent) => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as WireMessage;
      if (m.type === 'response') this.waiting.get(m.id)?.(m);
      if (m.type === 'event') {
        this.events.push(m);
        for (const w of [...this.eventWaiters]) {
          if (w.test(m)) {
            this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
  }

  request(method: string, params?: unknown): Promise<WireResponse> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ type: 'request', id, method, params }));
    });
  }

  nextEvent(test: (e: WireEvent) => boolean, timeoutMs = 10_000): Promise<WireEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for an engine event')), timeoutMs);
      this.eventWaiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}
