import { defineConfig } from 'vite';

// The UI is served by the Emberscope server at `/`; every asset is local (no CDN) so it works offline.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    proxy: {
      '/querier.v1.QuerierService': 'http://127.0.0.1:4040',
      '/pyroscope': 'http://127.0.0.1:4040',
      '/api': 'http://127.0.0.1:4040',
      '/render': 'http://127.0.0.1:4040',
    },
  },
});
