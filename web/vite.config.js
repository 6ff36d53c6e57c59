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

export default defineConfig({
  plugins: [preact(), runtimeConfig()],
  server: { host: "127.0.0.1", port: Number(process.env.WEB_PORT || 5173), strictPort: true },
  build: { target: "es2022" },
});
