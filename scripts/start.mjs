#!/usr/bin/env node
// `npm start`: builds and launches the app (electron-vite preview), fetching Electron first
// when needed; see launchElectronApp.mjs.
import { launchElectronApp } from './launchElectronApp.mjs';

launchElectronApp('preview');
