// Builds the UI into dist/ (index.html + hashed assets under /assets/), which cmake embeds
// into the strand binary. `npm run dev` proxies the API to a running strand: set
// STRAND_API (default http://127.0.0.1:3200).
import { defineConfig } from 'vite';

const api = process.env.STRAND_API ?? 'http://127.0.0.1:3200';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // Everything is served from the binary: no inlined-module preload polyfill fetches.
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': api } },
  preview: { proxy: { '/api': api } },
});
