// harness.mjs: what the browser test runs against, all real: server
// binaries built from ./cmd/server on free ports (restartable on the same
// port), the web build served with a config.json per origin, and Debian's
// Chromium driven by playwright-core. The emulators come from
// dev/with-emulators.sh (make test); without them the test fails loudly.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "../..");
const web = resolve(import.meta.dirname, "..");

// requireEnv returns the emulator settings or throws: no emulator, no test.
export function requireEnv() {
  const names = ["GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "STORAGE_BUCKET", "FCM_ENDPOINT"];
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length) throw new Error(`browser test needs the emulators (run it through make test): ${missing.join(", ")} unset`);
  return Object.fromEntries(names.map((n) => [n, process.env[n]]));
}

export function freePort() {
  return new Promise((ok, fail) => {
    const s = netServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

// workdir is a temporary directory removed when the process exits.
export function workdir() {
  const dir = mkdtempSync(join(tmpdir(), "chatapp-e2e-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// buildAll builds the server binary and the web client into dir.
export function buildAll(dir) {
  execFileSync("go", ["build", "-o", join(dir, "server"), "./cmd/server"], { cwd: root, stdio: "inherit" });
  execFileSync(process.execPath, [join(web, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--emptyOutDir", "--outDir", join(dir, "dist")],
    { cwd: web, stdio: "inherit" });
  return { server: join(dir, "server"), dist: join(dir, "dist") };
}

async function waitReady(url, child, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after 60 s`);
}

// Server is one backend instance on a fixed port, restartable there.
export class Server {
  constructor(bin, port, env, name) {
    Object.assign(this, { bin, port, env, name, url: `http://127.0.0.1:${port}`, child: null });
  }

  async start() {
    const child = spawn(this.bin, [], {
      env: { ...process.env, ...this.env, PORT: String(this.port), LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    this.child = child;
    await waitReady(`${this.url}/readyz`, child, `server ${this.name}`);
  }

  // stop sends SIGTERM (what Cloud Run sends) and waits for the exit.
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml" };

// serveWeb serves the build with its own config.json, as a deployment
// would, and answers index.html for unknown paths (a single-page app).
export function serveWeb(dist, port, config) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/config.json") {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      return res.end(JSON.stringify(config));
    }
    let file = normalize(join(dist, path));
    if (!file.startsWith(dist) || !existsSync(file) || path === "/") file = join(dist, "index.html");
    res.writeHead(200, { "Content-Type": types[extname(file)] || "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

// launchChromium starts Debian's Chromium (dev/install-browser.sh), headless,
// with the flags a closed network needs.
export function launchChromium() {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: run dev/install-browser.sh (make test does)`);
  return chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// signUp creates an account whose email says nothing of the name: the
// name typed here must be the username (not the email's local part). It
// returns the email; signIn signs such an account in again.
export async function signUp(page, url, name, T) {
  const email = `x${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
  await page.goto(url);
  await page.getByRole("button", { name: "New here? Create an account" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("secret123");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator(".list header strong", { hasText: name }).waitFor({ timeout: T });
  await page.locator(".conn.on").waitFor({ timeout: T });
  return email;
}

export async function signIn(page, url, name, email, T) {
  await page.goto(url);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("secret123");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator(".list header strong", { hasText: name }).waitFor({ timeout: T });
}
