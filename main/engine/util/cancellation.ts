import { PentimentoError } from '../errors';

/**
 * Cooperative cancellation (after VS Code's CancellationToken): long work calls
 * `throwIfCancelled()` between units of work (one denoising step, one optimiser iteration),
 * so a cancel takes effect within one unit.
 */
export interface CancellationToken {
  readonly isCancelled: boolean;
  throwIfCancelled(): void;
  onCancelled(listener: () => void): () => void;
}

export class CancellationSource {
  private cancelled = false;
  private readonly listeners = new Set<() => void>();
  readonly token: CancellationToken;

  constructor() {
    const source = this;
    this.token = {
      get isCancelled() {
        return source.cancelled;
      },
      throwIfCancelled() {
        if (source.cancelled) throw new PentimentoError('CANCELLED', 'The job was cancelled.');
      },
      onCancelled(listener) {
        if (source.cancelled) {
          listener();
          return () => {};
        }
        source.listeners.add(listener);
        return () => source.listeners.delete(listener);
      },
    };
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const l of this.listeners) l();
    this.listeners.clear();
  }
}

export const neverCancelled: CancellationToken = {
  isCancelled: false,
  throwIfCancelled() {},
  onCancelled() {
    return () => {};
  },
};
