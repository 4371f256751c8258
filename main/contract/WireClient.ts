import { PentimentoError, type ErrorData } from '../engine/errors';
import type {
  EngineApi,
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  RequestParams,
  RequestResult,
  WireMessage,
  WireRequest,
} from './contract';
import { ENGINE_REQUESTS } from './contract';

type Pending = { resolve: (result: unknown) => void; reject: (error: PentimentoError) => void };
type Listener = (payload: unknown) => void;

/**
 * The calling side of the wire protocol: numbers requests, matches responses to them and fans
 * events out to listeners. The transport (utilityProcess port, WebSocket) is just `send` plus
 * calls to `receive`; when the transport dies its owner calls `failAll`.
 */
export class WireClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<EngineEventName, Set<Listener>>();

  constructor(private readonly send: (message: WireRequest) => void) {}

  request<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<Awaited<RequestResult<K>>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      try {
        this.send({ type: 'request', id, method, params });
      } catch (e) {
        this.pending.delete(id);
        const message = e instanceof Error ? e.message : String(e);
        reject(new PentimentoError('INTERNAL', `Could not reach the engine: ${message}`));
      }
    });
  }

  /** Feeds one message from the transport; anything that is not a response or event is ignored. */
  receive(message: WireMessage | unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as WireMessage;
    if (m.type === 'response') {
      const pending = this.pending.get(m.id);
      if (!pending) return;
      this.pending.delete(m.id);
      if (m.ok) pending.resolve(m.result);
      else pending.reject(new PentimentoError(m.error.code, m.error.message, m.error.details));
    } else if (m.type === 'event') {
      for (const listener of this.listeners.get(m.event) ?? []) listener(m.payload);
    }
  }

  /** Rejects every request still waiting for a response (the transport is gone). */
  failAll(error: ErrorData): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(new PentimentoError(error.code, error.message, error.details));
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  on<E extends EngineEventName>(event: E, listener: (payload: EngineEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Delivers an event to listeners as if it had come over the wire (used for synthesised failures). */
  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    this.receive({ type: 'event', event, payload });
  }

  /** This client as the renderer-facing `EngineApi`. */
  api(): EngineApi {
    const api = { on: this.on.bind(this) } as Record<string, unknown>;
    for (const method of ENGINE_REQUESTS) {
      api[method] = (params?: unknown) => this.request(method, params as never);
    }
    return api as unknown as EngineApi;
  }
}
