import type { EngineEventName, EngineRequestName, RequestParams, RequestResult } from './contract';

/** What the engine's host needs to start it; `userDataDir` holds caches and downloaded models. */
export interface EngineOptions {
  modelDir?: string;
  provider?: string;
  userDataDir: string;
}

/**
 * The engine as its hosts (the utilityProcess, the browser-mode server) see it: requests in,
 * events out. `EngineService` in main/engine/service implements it; tests use a fake.
 */
export interface EngineHandler {
  /** Rejects with a PentimentoError for expected failures. */
  handle<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>>;
  /** Subscribes to engine events; returns the unsubscribe function. */
  on(listener: (event: EngineEventName, payload: unknown) => void): () => void;
  dispose(): Promise<void>;
}

export type EngineFactory = (opts: EngineOptions) => Promise<EngineHandler>;
