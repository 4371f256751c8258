#!/usr/bin/env node
// `npm run dev`: the app with hot reload (electron-vite dev), after the same Electron check as
// `npm start` (launchElectronApp.mjs), so a missing binary is two lines, not a stack trace.
import { launchElectronApp } from './launchElectronApp.mjs';

launchElectronApp('dev');
