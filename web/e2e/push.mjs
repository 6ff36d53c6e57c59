// push.mjs: the browser test's part for push registration. FCM cannot be
// reached from a closed network, so the parts of the browser and Firebase
// that talk to it are stubbed — the browser's push subscription (its push
// service is FCM too), Firebase Installations and FCM's registration
// endpoint — and everything of the app's own runs for real: permission
// asked after the first sent message, the service worker registered, the
// device route called with the token the page got, and the device deleted
// at sign-out.
import assert from "node:assert/strict";

// VAPID_KEY is a well-formed public key (65 bytes, base64url); nothing
// checks it against a private key here.
export const VAPID_KEY = `B${"A".repeat(86)}`;
export const STUB_TOKEN = "stub-fcm-token-for-the-browser-test";

// stubPush prepares a browser context: notification permission given when
// asked, a push subscription without a push service, and Firebase's
// registration answered with STUB_TOKEN.
export async function stubPush(ctx) {
  await ctx.addInitScript(() => {
    let granted = false;
    Object.defineProperty(Notification, "permission", { get: () => (granted ? "granted" : "default"), configurable: true });
    Notification.requestPermission = async () => { granted = true; window.__pushAsked = (window.__pushAsked || 0) + 1; return "granted"; };
    let sub = null;
    const key = (n) => new Uint8Array(n).fill(7).buffer;
    PushManager.prototype.getSubscription = async () => sub;
    PushManager.prototype.subscribe = async (opts) => {
      sub = {
        endpoint: "https://push.invalid/stub", expirationTime: null, options: opts,
        getKey: (name) => (name === "p256dh" ? key(65) : key(16)),
        toJSON() { return { endpoint: this.endpoint, keys: { p256dh: "stub", auth: "stub" } }; },
        unsubscribe: async () => { sub = null; return true; },
      };
      return sub;
    };
  });
  await ctx.route("https://firebaseinstallations.googleapis.com/**", (route) => route.fulfill({
    json: { name: "projects/p/installations/fid", fid: "cYuN6-u4TUmNd1dH3uOMsz", refreshToken: "refresh", authToken: { token: "auth", expiresIn: "604800s" } },
  }));
  await ctx.route("https://fcmregistrations.googleapis.com/**", (route) => (route.request().method() === "DELETE"
    ? route.fulfill({ json: {} })
    : route.fulfill({ json: { token: STUB_TOKEN } })));
}

// devicesCalls records the page's calls of the device route; put is the
// first PUT, as it is sent.
export function devicesCalls(page) {
  const calls = [];
  let registered;
  calls.put = new Promise((ok) => { registered = ok; });
  page.on("request", (r) => {
    if (!r.url().includes("/api/me/devices/")) return;
    calls.push({ method: r.method(), body: r.postData() });
    if (r.method() === "PUT") registered(calls[calls.length - 1]);
  });
  return calls;
}

// pushRegistered: after the user's first sent message, permission was
// asked once, the service worker is registered and the device route got
// the page's token.
export async function pushRegistered(page, calls, T) {
  await page.waitForFunction(() => window.__pushAsked === 1, null, { timeout: T });
  let timer;
  const timeout = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error("the device route was never called")), T); });
  const put = await Promise.race([calls.put, timeout]).finally(() => clearTimeout(timer));
  assert.deepEqual(JSON.parse(put.body), { token: STUB_TOKEN, platform: "web" });
  assert.ok(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration("/"))), "no service worker");
}

// pushUnregistered: signing out deletes the device first.
export async function pushUnregistered(page, calls, T) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: T });
  assert.ok(calls.some((c) => c.method === "DELETE"), "the device was not deleted at sign-out");
}

// pushOff: without a vapidKey the profile says push is off.
export async function pushOff(page, name, T) {
  await page.getByRole("button", { name: `Profile: ${name}` }).click();
  const profile = page.getByRole("dialog", { name: "Profile" });
  await profile.locator(".push-status", { hasText: "Push notifications are off" }).waitFor({ timeout: T });
  await profile.getByRole("button", { name: "Cancel" }).click();
}
