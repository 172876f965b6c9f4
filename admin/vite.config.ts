import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const apiPort = process.env.API_PORT ?? '4000';

/** The staff console: served by the API at /admin from admin/dist. */
export default defineConfig({
  root,
  base: '/admin/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    rolldownOptions: {
      // MUI marks its modules 'use client' for React Server Components; meaningless in this SPA.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // The bundled schema snapshot lives in schema/ at the repository root.
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    // 127.0.0.1, where a development API listens by default (localhost may resolve to ::1 first).
    proxy: { '/admin/graphql': `http://127.0.0.1:${apiPort}` },
  },
});
