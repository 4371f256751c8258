import type { ErrorData } from '../../../main/engine/errors';

/**
 * Engine calls reject with a PentimentoError (browser mode) or plain ErrorData (through Electron's
 * contextBridge, which drops Error properties); anything else is an unexpected INTERNAL error.
 */
export function asErrorData(e: unknown): ErrorData {
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) {
    const { code, message, details } = e as ErrorData;
    return { code, message: String(message), ...(details ? { details } : {}) };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}
