// vite.config.js: the build, and /config.json for `vite` (make dev) made
// from the environment the emulator runner exports, so development needs
// no file of its own. A deployment serves its own config.json instead
// (see README.md).
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

function devConfig() {
  const env = process.env;
  return {
    apiUrl: env.CHATAPP_API_URL || `http://localhost:${env.PORT || 8080}`,
    firebase: { apiKey: "demo-key", authDomain: "localhost", projectId: env.GOOGLE_CLOUD_PROJECT || "demo-chatapp" },
    ...(env.FIREBASE_AUTH_EMULATOR_HOST ? { authEmulatorUrl: `http://${env.FIREBASE_AUTH_EMULATOR_HOST}` } : {}),
  };
}

function runtimeConfig() {
  const serve = (req, res, next) => {
    if (req.url !== "/config.json") return next();
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify(devConfig()));
  };
  return {
    name: "chatapp-runtime-config",
    configureServer(server) {
      server.middlewares.use(serve);
    },
  };
}

// contentSecurityPolicy ships the built app with a Content-Security-Policy:
// scripts from the app's own origin only, no plugins, no <base>. Where it
// may connect is known only once config.json names the API: main.jsx adds
// that (connect-src) before any connection. Not in `vite` (make dev),
// whose hot reload needs more.
function contentSecurityPolicy() {
  const policy = "script-src 'self'; object-src 'none'; base-uri 'none'";
  return {
    name: "chatapp-csp",
    apply: "build",
    transformIndexHtml: () => [
      { tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: policy }, injectTo: "head-prepend" },
    ],
  };
}

export default defineConfig({
  plugins: [preact(), runtimeConfig(), contentSecurityPolicy()],
  server: { host: "127.0.0.1", port: Number(process.env.WEB_PORT || 5173), strictPort: true },
  build: {
    target: "es2022",
    // The push service worker is an entry of its own, at the root (a
    // worker controls only the paths under its own).
    rollupOptions: {
      input: { main: "index.html", sw: "src/sw.js" },
      output: { entryFileNames: (chunk) => (chunk.name === "sw" ? "firebase-messaging-sw.js" : "assets/[name]-[hash].js") },
    },
  },
});
