import type { EngineHandler } from '../contract/EngineHandler';
import type { EngineEventName, EngineRequestName, RequestParams, RequestResult } from '../contract/contract';

type Listener = (event: EngineEventName, payload: unknown) => void;

/**
 * An EngineHandler that creates the real engine on the first request. Loading models takes
 * seconds and can fail (MODEL_MISSING…): the host is up at once, and a failed start is the
 * first request's error rather than a dead process; the next request tries again.
 */
export class LazyEngine implements EngineHandler {
  private engine: Promise<EngineHandler> | undefined;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly create: () => Promise<EngineHandler>) {}

  private get(): Promise<EngineHandler> {
    if (!this.engine) {
      const starting = this.create().then((engine) => {
        engine.on((event, payload) => {
          for (const l of this.listeners) l(event, payload);
        });
        return engine;
      });
      starting.catch(() => {
        if (this.engine === starting) this.engine = undefined;
      });
      this.engine = starting;
    }
    return this.engine;
  }

  async handle<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    return (await this.get()).handle(method, params);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dispose(): Promise<void> {
    this.listeners.clear();
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await (await engine.catch(() => undefined))?.dispose();
  }
}
