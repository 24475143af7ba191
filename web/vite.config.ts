import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/** The UI is served by the API server under /ui/ (the README's "Web UI"); `npm run build` writes it to web/dist. */
export default defineConfig({
  // The build runs from the repository root; the UI's sources sit beside this file.
  root: decodeURIComponent(new URL('.', import.meta.url).pathname),
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The build's size table is the payload benchmark's first reading: keep the gzip column.
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1600,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
})
