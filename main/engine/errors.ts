/**
 * Expected failures are values with a `code`; they cross IPC and the WebSocket bridge as plain
 * data ({ code, message, details }). Messages say what was wrong and what to do about it.
 */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_IMAGE'
  | 'BAD_MODEL'
  | 'MODEL_MISSING'
  | 'UNSUPPORTED_OP'
  | 'OUT_OF_MEMORY'
  | 'PROVIDER_UNAVAILABLE'
  | 'CANCELLED'
  | 'IO_ERROR'
  | 'INTERNAL';

export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class PentimentoError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'PentimentoError';
    this.code = code;
    this.details = details;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isPentimentoError(e: unknown): e is PentimentoError {
  return e instanceof PentimentoError;
}

/** Any thrown value as plain error data; unexpected errors become INTERNAL with their message. */
export function toErrorData(e: unknown): ErrorData {
  if (e instanceof PentimentoError) return e.toData();
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message };
}

export const badArgument = (message: string, details?: Record<string, unknown>) =>
  new PentimentoError('BAD_ARGUMENT', message, details);
