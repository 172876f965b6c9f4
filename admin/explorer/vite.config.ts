import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

/**
 * The GraphQL explorer (GraphiQL): served by the API at GET /graphql to browsers, its
 * files under /graphql/explorer/ from admin/explorer/dist. Everything is bundled, the
 * Monaco editor's web workers included: the page loads nothing from another origin.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/graphql/explorer/',
  oxc: { jsx: { runtime: 'automatic' } },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Monaco's editor and its workers are large; nothing is gained by splitting them further.
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
    // Inlined assets would become data: URLs; as files they stay under the 'self' of the CSP.
    assetsInlineLimit: 0,
    rolldownOptions: {
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
