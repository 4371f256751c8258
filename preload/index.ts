/**
 * The sandboxed preload: exposes `window.pentimento` (EngineApi + ShellApi) over ipcRenderer and
 * nothing else. Errors reject as plain ErrorData ({ code, message }), because contextBridge drops
 * custom properties of Error objects.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  ENGINE_REQUESTS,
  IPC_CHANNELS,
  type EngineApi,
  type EngineEventName,
  type IpcEnvelope,
  type ShellApi,
} from '../main/contract/contract';

async function invoke(channel: string, ...args: unknown[]): Promise<never> {
  const envelope = (await ipcRenderer.invoke(channel, ...args)) as IpcEnvelope;
  if (!envelope.ok) throw envelope.error;
  return envelope.result as never;
}

const listeners = new Map<EngineEventName, Set<(payload: unknown) => void>>();
ipcRenderer.on(IPC_CHANNELS.engineEvent, (_event, message: { event: EngineEventName; payload: unknown }) => {
  for (const listener of listeners.get(message.event) ?? []) listener(message.payload);
});

const engine = {
  on(event: EngineEventName, listener: (payload: unknown) => void) {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  },
} as Record<string, unknown>;
for (const method of ENGINE_REQUESTS) {
  engine[method] = (params?: unknown) => invoke(IPC_CHANNELS.engineRequest, method, params);
}

const shell: ShellApi = {
  openImage: () => invoke(IPC_CHANNELS.openImage),
  saveImage: (params) => invoke(IPC_CHANNELS.saveImage, params),
};

const api: EngineApi & ShellApi = { ...(engine as unknown as EngineApi), ...shell };
contextBridge.exposeInMainWorld('pentimento', api);
