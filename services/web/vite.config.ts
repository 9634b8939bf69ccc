import { defineConfig } from "vite";

// The page is served by the edge from dist/: index.html (revalidated on every load) and
// content-hashed files under assets/ (cached for a year). Everything is bundled: no CDN.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // One script and one stylesheet, no inline code: the edge's Content-Security-Policy
    // allows only files from the page's own origin.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
});
