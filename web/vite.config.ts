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
    // dist/web is what the master serves: source maps would hand out the source, so
    // they are built only on request (COLONY_SOURCE_MAPS=1; served with
    // `colony master --serve-source-maps`).
    sourcemap: process.env.COLONY_SOURCE_MAPS === '1',
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
