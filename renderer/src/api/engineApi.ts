import type { EngineApi, ShellApi } from '../../../main/contract/contract';
import { createWebApi } from './webApi';

/** The renderer's only door to the engine: the preload's API in Electron, else the WebSocket one. */
export const engineApi: EngineApi & Partial<ShellApi> = window.pentimento ?? createWebApi(window.location);

/** True in the desktop app, where native dialogs replace the file input and the download link. */
export const hasNativeDialogs = Boolean(engineApi.openImage && engineApi.saveImage);
