import { toErrorData } from '../engine/errors';
import type { EngineHandler } from './EngineHandler';
import type { WireEvent, WireResponse } from './contract';
import { ENGINE_REQUESTS } from './contract';

export interface WireEndpoint {
  /** Feeds one message from the transport; malformed requests get a BAD_ARGUMENT response. */
  receive(message: unknown): void;
  /** Stops forwarding engine events to this transport. */
  close(): void;
}

/**
 * The serving side of the wire protocol: runs each request on the engine and sends back exactly
 * one response per id; forwards every engine event. Used by the utilityProcess host and by each
 * browser-mode WebSocket connection.
 */
export function serveEngineOnWire(engine: EngineHandler, send: (message: WireResponse | WireEvent) => void): WireEndpoint {
  let open = true;
  const post = (message: WireResponse | WireEvent) => {
    if (!open) return;
    try {
      send(message);
    } catch {
      // The transport closed under us; its owner will call close().
    }
  };
  const unsubscribe = engine.on((event, payload) => post({ type: 'event', event, payload }));

  return {
    receive(message) {
      const m = message as { type?: unknown; id?: unknown; method?: unknown; params?: unknown } | null;
      if (typeof m !== 'object' || m === null || m.type !== 'request' || typeof m.id !== 'number') return;
      const id = m.id;
      if (typeof m.method !== 'string' || !(ENGINE_REQUESTS as readonly string[]).includes(m.method)) {
        post({
          type: 'response',
          id,
          ok: false,
          error: {
            code: 'BAD_ARGUMENT',
            message: `Unknown engine request "${String(m.method)}"; valid requests are ${ENGINE_REQUESTS.join(', ')}.`,
          },
        });
        return;
      }
      const method = m.method as (typeof ENGINE_REQUESTS)[number];
      Promise.resolve()
        .then(() => engine.handle(method, m.params as never))
        .then(
          (result) => post({ type: 'response', id, ok: true, result }),
          (error: unknown) => post({ type: 'response', id, ok: false, error: toErrorData(error) }),
        );
    },
    close() {
      open = false;
      unsubscribe();
    },
  };
}
