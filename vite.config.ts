// Vite builds the web UI (src/ui/web, Preact + TSX through esbuild's automatic JSX runtime) into
// dist/ui/, which the controller's UI server serves: hashed asset names under assets/, relative
// URLs (the UI works behind a path prefix such as `kubectl proxy`), nothing loaded from the internet.
// `npx vite` serves the app with /api proxied to FLOTILLA_UI_API (default the mock of
// `npm run ui:mock`, http://127.0.0.1:8081).

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("./src/ui/web"),
  base: "./",
  publicDir: false,
  logLevel: "warn",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: here("./dist/ui"),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: true,
    // No inlined data: URLs either: every asset is a file the server sends with its own type.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { "/api": { target: process.env.FLOTILLA_UI_API ?? "http://127.0.0.1:8081", changeOrigin: false } },
  },
});
