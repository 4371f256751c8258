/**
 * Electron main process: one sandboxed window, the engine in a utilityProcess, and IPC that
 * only routes. Nothing here computes; the engine lives in main/engine and knows no Electron.
 */
import { app, BrowserWindow, dialog, ipcMain, session, utilityProcess, type IpcMainInvokeEvent } from 'electron';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PentimentoError, toErrorData } from '../engine/errors';
import { ENGINE_REQUESTS, IPC_CHANNELS, type EngineRequestName, type IpcEnvelope } from '../contract/contract';
import { contentSecurityPolicy } from './contentSecurityPolicy';
import { engineOptionsArg } from './engineOptionsArg';
import { EngineSupervisor, type EngineChild } from './EngineSupervisor';
import { isTrustedSender } from './isTrustedSender';

const here = import.meta.dirname;
const rendererFile = path.join(here, '../renderer/index.html');
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const allowedPages = { rendererFileUrl: pathToFileURL(rendererFile).href, devServerUrl };
const ENGINE_SERVICE_NAME = 'Pentimento engine';
const MAX_OPEN_BYTES = 512 * 1024 * 1024;

let mainWindow: BrowserWindow | undefined;

// Electron reports *why* a child died (oom, crashed…) in a separate app event; keep the latest.
let lastEngineGoneReason: string | undefined;
app.on('child-process-gone', (_event, details) => {
  if (details.type === 'Utility' && details.serviceName === ENGINE_SERVICE_NAME) lastEngineGoneReason = details.reason;
});

function spawnEngine(): EngineChild {
  lastEngineGoneReason = undefined;
  const child = utilityProcess.fork(
    path.join(here, 'engineProcess.js'),
    [
      engineOptionsArg({
        userDataDir: app.getPath('userData'),
        modelDir: process.env.PENTIMENTO_MODEL_DIR || undefined,
        provider: process.env.PENTIMENTO_PROVIDER || undefined,
      }),
    ],
    { serviceName: ENGINE_SERVICE_NAME, stdio: 'inherit' },
  );
  return {
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    // child-process-gone may land just after exit; give it a moment so OOM is named as such.
    onExit: (listener) => child.on('exit', (code) => setTimeout(() => listener(code, lastEngineGoneReason), 100)),
    kill: () => void child.kill(),
  };
}

const engine = new EngineSupervisor(spawnEngine);
engine.on((event, payload) => {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_CHANNELS.engineEvent, { event, payload });
});

/** Registers an IPC handler that answers only our window's page and always returns an envelope. */
function handleTrusted(channel: string, handler: (...args: unknown[]) => Promise<unknown>): void {
  ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<IpcEnvelope> => {
    if (!mainWindow || event.sender !== mainWindow.webContents || !isTrustedSender(event.senderFrame?.url, allowedPages)) {
      return { ok: false, error: { code: 'INTERNAL', message: 'Refused an IPC request from an unknown page.' } };
    }
    try {
      return { ok: true, result: await handler(...args) };
    } catch (e) {
      return { ok: false, error: toErrorData(e) };
    }
  });
}

handleTrusted(IPC_CHANNELS.engineRequest, async (method, params) => {
  if (typeof method !== 'string' || !(ENGINE_REQUESTS as readonly string[]).includes(method)) {
    throw new PentimentoError('BAD_ARGUMENT', `Unknown engine request "${String(method)}".`);
  }
  return engine.request(method as EngineRequestName, params as never);
});

handleTrusted(IPC_CHANNELS.openImage, async () => {
  const options: Electron.OpenDialogOptions = {
    title: 'Open image',
    properties: ['openFile'],
    filters: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'gif', 'avif'] }],
  };
  const choice = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  const file = choice.filePaths[0];
  if (choice.canceled || !file) return null;
  const { size } = await stat(file);
  if (size > MAX_OPEN_BYTES) {
    throw new PentimentoError('BAD_IMAGE', `${path.basename(file)} is ${Math.round(size / 2 ** 20)} MiB; open an image under 512 MiB.`);
  }
  return { base64: (await readFile(file)).toString('base64'), name: path.basename(file) };
});

handleTrusted(IPC_CHANNELS.saveImage, async (params) => {
  const { pngBase64, suggestedName } = (params ?? {}) as { pngBase64?: unknown; suggestedName?: unknown };
  if (typeof pngBase64 !== 'string' || typeof suggestedName !== 'string') {
    throw new PentimentoError('BAD_ARGUMENT', 'saveImage needs { pngBase64: string, suggestedName: string }.');
  }
  const options: Electron.SaveDialogOptions = {
    title: 'Save result',
    defaultPath: path.basename(suggestedName),
    filters: [{ name: 'PNG image', extensions: ['png'] }],
  };
  const choice = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
  if (choice.canceled || !choice.filePath) return { saved: false };
  const target = /\.png$/i.test(choice.filePath) ? choice.filePath : `${choice.filePath}.png`;
  // Write beside the target and rename, so a failed write never leaves a truncated file.
  const partial = `${target}.partial`;
  try {
    await writeFile(partial, Buffer.from(pngBase64, 'base64'));
    await rename(partial, target);
  } catch (e) {
    await rm(partial, { force: true });
    throw new PentimentoError('IO_ERROR', `Could not save ${target}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { saved: true, path: target };
});

function lockDown(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // The meta tag covers file://; the dev server's responses get the policy as a header.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [contentSecurityPolicy({ dev: Boolean(devServerUrl), header: true })],
      },
    });
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedSender(url, allowedPages)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isTrustedSender(url, allowedPages)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Pentimento',
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });
  if (devServerUrl) void mainWindow.loadURL(devServerUrl);
  else void mainWindow.loadFile(rendererFile);
}

app.enableSandbox();
void app.whenReady().then(() => {
  lockDown();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => engine.dispose());
