import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built at install time into dist/web, which Koa serves at `/`. Everything is bundled: no CDN.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // bpmn-js is large by nature; one chunk for it is fine on an intranet.
    chunkSizeWarningLimit: 1500,
    assetsInlineLimit: 0,
  },
});
