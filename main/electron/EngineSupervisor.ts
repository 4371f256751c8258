import type { ErrorData } from '../engine/errors';
import { WireClient } from '../contract/WireClient';
import type {
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  RequestParams,
  RequestResult,
  WireRequest,
} from '../contract/contract';

/** The engine's process as the supervisor sees it (an Electron utilityProcess in the app). */
export interface EngineChild {
  postMessage(message: WireRequest): void;
  onMessage(listener: (message: unknown) => void): void;
  /** `reason` is Electron's child-process-gone reason ('oom', 'crashed'…) when known. */
  onExit(listener: (code: number, reason?: string) => void): void;
  kill(): void;
}

// Windows reports an out-of-memory process death as this NTSTATUS-style exit code.
const WINDOWS_OOM_EXIT = 0xe0000008;

/** The error every in-flight request and job gets when the engine process dies. */
export function engineStoppedError(code: number, reason?: string): ErrorData {
  const outOfMemory = reason === 'oom' || code >>> 0 === WINDOWS_OOM_EXIT;
  const how = `exit code ${code}${reason ? `, ${reason}` : ''}`;
  return outOfMemory
    ? {
        code: 'OUT_OF_MEMORY',
        message:
          `The engine process stopped (${how}): it ran out of memory. ` +
          'Try a smaller image or fewer steps; the engine restarts on your next request.',
      }
    : {
        code: 'INTERNAL',
        message: `The engine process stopped (${how}). It restarts on your next request; if this keeps happening, please report it.`,
      };
}

/**
 * Owns the engine's process: starts it on the first request, routes requests and events, and
 * turns its death (native crash, OOM kill) into failed requests and `failed` events for every
 * running job, so the window survives. The next request starts a fresh process.
 */
export class EngineSupervisor {
  private child: EngineChild | undefined;
  private client: WireClient | undefined;
  private readonly runningJobs = new Set<string>();
  private readonly listeners = new Set<(event: EngineEventName, payload: unknown) => void>();
  private disposed = false;

  constructor(private readonly spawn: () => EngineChild) {}

  async request<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<Awaited<RequestResult<K>>> {
    const client = this.ensureStarted();
    const result = await client.request(method, params);
    if (method === 'generate') {
      const { jobId } = result as { jobId: string };
      this.runningJobs.add(jobId);
    }
    return result;
  }

  on(listener: (event: EngineEventName, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.child?.kill();
    this.child = undefined;
    this.client = undefined;
  }

  private ensureStarted(): WireClient {
    if (this.disposed) throw new Error('The engine supervisor was disposed.');
    if (this.client) return this.client;
    const child = this.spawn();
    const client = new WireClient((message) => child.postMessage(message));
    for (const event of ['progress', 'result', 'failed', 'log'] as const) {
      client.on(event, (payload) => this.forward(event, payload));
    }
    child.onMessage((message) => {
      if (this.child === child) client.receive(message);
    });
    child.onExit((code, reason) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.client = undefined;
      if (this.disposed) return;
      const error = engineStoppedError(code, reason);
      client.failAll(error);
      const jobs = [...this.runningJobs];
      this.runningJobs.clear();
      for (const jobId of jobs) this.forward('failed', { jobId, error });
    });
    this.child = child;
    this.client = client;
    return client;
  }

  private forward<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    if (event === 'result' || event === 'failed') this.runningJobs.delete((payload as { jobId: string }).jobId);
    for (const l of this.listeners) l(event, payload);
  }
}
