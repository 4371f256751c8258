import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './main/electron/contentSecurityPolicy';

// Native addons are loaded from node_modules at run time, never bundled.
const NATIVE = ['onnxruntime-node', 'sharp'];

/** Puts the production CSP into the built index.html; dev gets a looser header from main instead. */
function cspMetaTag(): Plugin {
  return {
    name: 'pentimento-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy() },
        injectTo: 'head-prepend',
      },
    ],
  };
}

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(import.meta.dirname, 'main/electron/index.ts'),
          engineProcess: resolve(import.meta.dirname, 'main/electron/engineProcess.ts'),
        },
        external: NATIVE,
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'preload/index.ts') },
        // Sandboxed preloads cannot be ES modules.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    plugins: [react(), cspMetaTag()],
    build: {
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'renderer/index.html') },
      },
    },
  },
});
