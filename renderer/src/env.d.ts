import type { EngineApi, ShellApi } from '../../main/contract/contract';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode, where api/webApi.ts stands in. */
    pentimento?: EngineApi & Partial<ShellApi>;
  }
}

export {};
