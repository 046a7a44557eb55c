// Builds the dashboard (`/`) and the volunteer page (`/volunteer`) into dist/web, which
// the master serves. Task code is not part of this build: the Web Worker imports it at
// run time from `/modules/<hash>.js`.
import { defineConfig } from 'vite';

const webDir = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root: webDir,
  base: '/',
  publicDir: false,
  clearScreen: false,
  build: {
    outDir: `${webDir}../dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // uPlot and lit are small; one warning threshold for the whole page is enough.
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      input: {
        index: `${webDir}index.html`,
        volunteer: `${webDir}volunteer.html`,
      },
    },
  },
  // The task worker imports task modules dynamically, which needs an ES module worker.
  worker: { format: 'es' },
});
