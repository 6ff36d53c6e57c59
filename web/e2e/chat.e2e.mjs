// The reference client in real Chromium: two users in two browser
// contexts, each on its own server instance (ana on A at desktop width,
// bob on B at 360 px), through the whole life of a conversation.
// Every wait is for a condition on the page; none is a fixed sleep.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { Server, buildAll, freePort, launchChromium, requireEnv, serveWeb, signIn, signUp, workdir } from "./harness.mjs";
import { deleteAccount, exportData, receiptsMuteBlock } from "./privacy.mjs";
import { VAPID_KEY, devicesCalls, pushOff, pushRegistered, pushUnregistered, stubPush } from "./push.mjs";

const T = 30_000; // the longest any single condition may take

let env, dir, bin, servers, webs, browser;

before(async () => {
  env = requireEnv();
  dir = workdir();
  bin = buildAll(dir);
  const [pa, pb, wa, wb] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const origins = [`http://127.0.0.1:${wa}`, `http://127.0.0.1:${wb}`];
  const serverEnv = { ...env, CORS_ORIGINS: origins.join(",") };
  servers = [new Server(bin.server, pa, serverEnv, "A"), new Server(bin.server, pb, serverEnv, "B")];
  await Promise.all(servers.map((s) => s.start()));
  const config = (s, extra = {}) => ({
    apiUrl: s.url,
    firebase: { apiKey: "demo-key", authDomain: "localhost", projectId: env.GOOGLE_CLOUD_PROJECT, appId: "1:1234567890:web:0123456789abcdef", messagingSenderId: "1234567890" },
    authEmulatorUrl: `http://${env.FIREBASE_AUTH_EMULATOR_HOST}`,
    ...extra,
  });
  // Push is on for ana's web app only (push.mjs stubs what FCM would do).
  webs = await Promise.all([serveWeb(bin.dist, wa, config(servers[0], { vapidKey: VAPID_KEY })), serveWeb(bin.dist, wb, config(servers[1]))]);
  webs.urls = origins;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  webs?.forEach((w) => w.close());
  await Promise.all((servers || []).map((s) => s.stop()));
});

// png is a real 160×100 PNG (colour bands), made here so the test needs
// no fixture.
function png() {
  const crc = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const [w, h] = [160, 100];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + 3 * w);
    for (let x = 0; x < w; x++) row.set([37 + x, 99 + y, 235 - x], 1 + 3 * x);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

let axeCode;
const axeSource = () => (axeCode ??= readFileSync(new URL("../node_modules/axe-core/axe.min.js", import.meta.url), "utf8"));

// axeCheck runs axe-core in the page and fails on any serious or
// critical violation.
async function axeCheck(page, where) {
  // Evaluated through the debugging protocol: the app's CSP refuses inline scripts.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource());
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(found, [], `axe-core at ${where}`);
}

// atBottom tells whether a page's message list shows its newest message.
const atBottom = (page) => page.evaluate(() => {
  const el = document.querySelector(".messages");
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
});

const send = async (page, text) => {
  await page.getByRole("textbox", { name: "Message", exact: true }).fill(text);
  await page.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
};

const message = (page, text) => page.locator(".messages li.msg", { has: page.locator(".content", { hasText: new RegExp(`^${text}$`) }) });

test("two users chat across two instances in Chromium", async () => {
  const run = Date.now().toString(36);
  const ana = `ana${run}`;
  const bob = `bob${run}`;
  const ctxA = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const ctxB = await browser.newContext({ viewport: { width: 360, height: 740 } });
  await ctxA.clock.install(); // time flows; the test jumps it once, to the token's renewal
  await stubPush(ctxA);
  const a = await ctxA.newPage();
  const pushCalls = devicesCalls(a);
  let b = await ctxB.newPage();
  for (const [p, who] of [[a, "ana"], [b, "bob"]]) {
    p.on("pageerror", (err) => console.error(`${who} page error:`, err.message));
    p.on("console", (m) => { if (m.type() === "warning") console.error(`${who} console:`, m.text()); });
  }

  await signUp(a, webs.urls[0], ana, T);
  const bobEmail = await signUp(b, webs.urls[1], bob, T);

  // The profile: a username taken by someone else is refused with the
  // server's sentence; a free one is taken at once.
  await a.getByRole("button", { name: `Profile: ${ana}` }).click();
  const profile = a.getByRole("dialog", { name: "Profile" });
  await profile.getByLabel("Username").fill(bob.toUpperCase());
  await profile.getByRole("button", { name: "Save" }).click();
  await profile.getByRole("alert").waitFor({ timeout: T });
  await profile.getByLabel("Username").fill(`${ana}x`);
  await profile.getByRole("button", { name: "Save" }).click();
  await a.locator(".list header strong", { hasText: `${ana}x` }).waitFor({ timeout: T });
  await a.getByRole("button", { name: `Profile: ${ana}x` }).click();
  await profile.getByLabel("Username").fill(ana);
  await profile.getByRole("button", { name: "Save" }).click();
  await a.locator(".list header strong", { hasText: new RegExp(`^${ana}$`) }).waitFor({ timeout: T });

  // ana finds bob and starts a direct chat.
  await a.getByRole("button", { name: "New chat" }).click();
  await a.getByLabel("Find people").fill(bob);
  await a.getByRole("list", { name: "People found" }).getByRole("button", { name: bob }).click();
  await a.getByRole("button", { name: "Start chat" }).click();
  await a.getByRole("heading", { name: bob }).waitFor({ timeout: T });
  assert.equal(await a.evaluate(() => window.__pushAsked || 0), 0, "push permission asked before any message");
  await a.getByRole("textbox", { name: "Message", exact: true }).fill("hello bob");
  await a.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await message(a, "hello bob").waitFor({ timeout: T });
  await pushRegistered(a, pushCalls, T); // after her first message
  await pushOff(b, bob, T); // bob's web app has no vapidKey

  // bob: the chat arrives live with an unread badge and ana online.
  const bobsChat = b.locator(".chat-item", { hasText: ana });
  await bobsChat.locator(".badge", { hasText: "1" }).waitFor({ timeout: T });
  await bobsChat.locator('.dot[data-online="true"]').waitFor({ timeout: T });
  await bobsChat.click();
  await message(b, "hello bob").waitFor({ timeout: T });

  // bob types: ana sees it, and it clears when he sends (Shift+Enter is a newline).
  await b.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("hi ana", { delay: 20 });
  await a.locator(".typing", { hasText: `${bob} is typing…` }).waitFor({ timeout: T });
  await b.getByRole("textbox", { name: "Message", exact: true }).press("Shift+Enter");
  await b.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("second line");
  await b.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await a.locator(".messages .content", { hasText: "second line" }).waitFor({ timeout: T });
  assert.equal(await a.locator(".messages .content", { hasText: "second line" }).innerText(), "hi ana\nsecond line");
  await a.locator(".typing:empty").waitFor({ timeout: T });

  // bob goes back to the list (360 px: one pane); ana's next message
  // counts as unread for him, and opening the chat clears it.
  await b.getByRole("button", { name: "Back to chats" }).click();
  await a.getByRole("textbox", { name: "Message", exact: true }).fill("are you there?");
  await a.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await bobsChat.locator(".badge", { hasText: "1" }).waitFor({ timeout: T });
  await bobsChat.click();
  await message(b, "are you there\\?").waitFor({ timeout: T });
  await b.getByRole("button", { name: "Back to chats" }).click();
  await bobsChat.waitFor({ timeout: T });
  assert.equal(await bobsChat.locator(".badge").count(), 0, "the badge cleared");
  await bobsChat.click();

  // An image: uploaded with progress by ana, shown inline to bob through
  // a blob: URL fetched with his token.
  await a.locator("#composer-file").setInputFiles({ name: "sunset.png", mimeType: "image/png", buffer: png() });
  const img = b.locator("img.attachment[alt='sunset.png']");
  await img.waitFor({ timeout: T });
  await b.waitForFunction((el) => el.complete && el.naturalWidth === 160, await img.elementHandle(), { timeout: T });
  assert.match(await img.getAttribute("src"), /^blob:/);
  await a.locator("img.attachment[alt='sunset.png']").waitFor({ timeout: T });
  const shot = join(dir, "web-client.png");
  await a.screenshot({ path: shot });
  if (process.env.CHATAPP_SCREENSHOT) copyFileSync(shot, process.env.CHATAPP_SCREENSHOT);

  // A file that calls itself an image but is HTML is never rendered on the
  // app's origin: bob is offered a download of opaque bytes, no <img>, no page.
  const html = "<!doctype html><script>top.__pwned = 1; if (window.opener) window.opener.__pwned = 1;</script>";
  await a.locator("#composer-file").setInputFiles({ name: "x.png", mimeType: "image/png", buffer: Buffer.from(html) });
  const offer = b.getByRole("button", { name: "Download x.png" });
  await offer.waitFor({ timeout: T });
  assert.equal(await b.locator("img.attachment[alt='x.png']").count(), 0, "HTML shown as an image");
  const [download] = await Promise.all([b.waitForEvent("download", { timeout: T }), offer.click()]);
  assert.equal(download.suggestedFilename(), "x.png");
  assert.equal(ctxB.pages().length, 1, "a page was opened for the file");
  assert.equal(await b.evaluate(() => window.__pwned), undefined, "the file's script ran");

  // The built app's Content-Security-Policy: scripts from its origin only,
  // and no connection to an origin config.json does not name.
  const policies = await b.locator('meta[http-equiv="Content-Security-Policy"]').evaluateAll((ms) => ms.map((m) => m.content));
  assert.ok(policies.some((p) => p.includes("script-src 'self'") && p.includes("object-src 'none'")), policies.join(" | "));
  const violated = await b.evaluate(() => new Promise((resolve) => {
    document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective), { once: true });
    setTimeout(() => resolve("none"), 10_000); // an upper bound: the violation comes at once
    fetch("http://127.0.0.1:9/").catch(() => {});
  }));
  assert.equal(violated, "connect-src");

  // Accessibility: no serious or critical axe-core violation, desktop and phone.
  await axeCheck(a, "desktop, chat open");
  await axeCheck(b, "phone, chat open");

  // A reload keeps the open chat (it is in the URL) and opens it at its
  // newest message, also once the image above it has loaded; Back
  // returns to the list.
  assert.match(b.url(), /\?chat=/);
  await b.reload();
  await message(b, "hello bob").waitFor({ timeout: T });
  await message(b, "are you there\\?").waitFor({ timeout: T });
  const reloaded = b.locator("img.attachment[alt='sunset.png']");
  await reloaded.waitFor({ timeout: T });
  await b.waitForFunction((el) => el.complete && el.naturalWidth === 160, await reloaded.elementHandle(), { timeout: T });
  await b.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.ok(await atBottom(b), "the chat opened above its newest message");
  await b.goBack();
  await bobsChat.waitFor({ timeout: T });
  await b.goForward();
  await message(b, "hello bob").waitFor({ timeout: T });

  // Reading aids: bob on the list while ana sends fourteen; opening the chat
  // shows "14 new messages" above the first. Scrolled up, a new arrival is
  // a "Jump to latest" button, not a jump.
  await b.getByRole("button", { name: "Back to chats" }).click();
  for (let i = 1; i <= 14; i++) await send(a, `news ${i}`);
  await bobsChat.locator(".badge", { hasText: "14" }).waitFor({ timeout: T });
  await bobsChat.click();
  await b.locator(".unread-divider", { hasText: "14 new messages" }).waitFor({ timeout: T });
  assert.equal(await b.locator(".unread-divider + li.msg .content").innerText(), "news 1");
  assert.ok(await b.evaluate(() => { const el = document.querySelector(".messages"); return el.scrollHeight > el.clientHeight + 100; }), "the chat scrolls");
  await b.evaluate(() => { document.querySelector(".messages").scrollTop = 0; });
  await b.waitForFunction(() => document.querySelector(".messages").scrollTop === 0);
  await send(a, "while you read old ones");
  const jump = b.getByRole("button", { name: /1 new message · Jump to latest/ });
  await jump.waitFor({ timeout: T });
  assert.equal(await b.evaluate(() => document.querySelector(".messages").scrollTop), 0, "the view jumped by itself");
  await jump.click();
  await b.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.ok(await atBottom(b), "Jump to latest");

  // A group ana makes and renames: bob, who never opens it, sees the new
  // name in his list (chatInfo). Then he leaves it, after confirming,
  // without an error; ana's conversation says he left.
  await b.getByRole("button", { name: "Back to chats" }).click();
  await a.getByRole("button", { name: "New chat" }).click();
  await a.getByLabel("Find people").fill(bob);
  await a.getByRole("list", { name: "People found" }).getByRole("button", { name: bob }).click();
  await a.getByLabel("Group", { exact: true }).check();
  await a.getByLabel("Group name").fill(`Team ${run}`);
  await a.getByRole("button", { name: "Start chat" }).click();
  await b.locator(".chat-item", { hasText: `Team ${run}` }).waitFor({ timeout: T });
  await a.getByRole("button", { name: "Members" }).click();
  await a.getByRole("region", { name: "Group members" }).getByLabel("Name").fill(`Crew ${run}`);
  await a.getByRole("button", { name: "Rename" }).click();
  await a.locator(".note", { hasText: `Renamed to “Crew ${run}”` }).waitFor({ timeout: T });
  await b.locator(".chat-item", { hasText: `Crew ${run}` }).waitFor({ timeout: T });
  await b.locator(".chat-item", { hasText: `Crew ${run}` }).click();
  await b.getByRole("button", { name: "Members" }).click();
  await b.getByRole("button", { name: "Leave group" }).click();
  const confirm = b.getByRole("dialog", { name: `Leave Crew ${run}?` });
  await confirm.waitFor({ timeout: T });
  await confirm.getByRole("button", { name: "Leave" }).click();
  await bobsChat.waitFor({ timeout: T });
  assert.equal(await b.locator(".chat-item", { hasText: `Crew ${run}` }).count(), 0);
  assert.equal(await b.getByRole("alert").count(), 0, "an error after leaving by choice");
  await a.locator(".note", { hasText: `${bob} left` }).waitFor({ timeout: T });
  await a.locator(".chat-item", { hasText: bob }).click();
  await bobsChat.click();

  // bob's instance restarts under him; what ana sends meanwhile appears
  // once, after his client reconnects and catches up, and what he sent
  // while offline reaches ana once.
  await servers[1].stop();
  await b.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ timeout: T });
  await send(b, "bob wrote this offline");
  for (const text of ["sent while you were away 1", "sent while you were away 2"]) {
    await a.getByRole("textbox", { name: "Message", exact: true }).fill(text);
    await a.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
    await message(a, text).waitFor({ timeout: T });
  }
  await servers[1].start();
  await b.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ state: "hidden", timeout: T });
  for (const text of ["sent while you were away 1", "sent while you were away 2"]) {
    await message(b, text).waitFor({ timeout: T });
  }
  // A marker after them: once it is shown, any duplicate would be too.
  await a.getByRole("textbox", { name: "Message", exact: true }).fill("marker");
  await a.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await message(b, "marker").waitFor({ timeout: T });
  for (const text of ["sent while you were away 1", "sent while you were away 2", "hello bob"]) {
    assert.equal(await message(b, text).count(), 1, `"${text}" shown once`);
  }
  await message(a, "bob wrote this offline").waitFor({ timeout: T });
  await send(b, "marker from bob");
  await message(a, "marker from bob").waitFor({ timeout: T });
  assert.equal(await message(a, "bob wrote this offline").count(), 1, "the offline send shown once");

  // bob corrects a message: ana sees the edit live.
  const edit = async (page, from, to) => {
    const m = message(page, from);
    await m.hover();
    await m.getByRole("button", { name: "Edit message" }).click();
    const box = page.getByRole("textbox", { name: "Edit message" });
    await box.fill(to);
    await box.press("Enter");
    await message(page, to).waitFor({ timeout: T });
  };
  await send(b, "see you tomorow");
  await message(a, "see you tomorow").waitFor({ timeout: T });
  await edit(b, "see you tomorow", "see you tomorrow");
  await message(a, "see you tomorrow").locator(".edited").waitFor({ timeout: T });

  // Then he edits and deletes while ana's instance restarts: once she is
  // back, her client catches up (changedAfter) and shows the edit and the
  // tombstone once each, and nothing of what was taken back.
  await send(b, "a typo hree");
  await send(b, "a secret to take back");
  await message(a, "a secret to take back").waitFor({ timeout: T });
  await servers[0].stop();
  await a.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ timeout: T });
  await edit(b, "a typo hree", "a typo here, fixed");
  const secret = message(b, "a secret to take back");
  await secret.hover();
  await secret.getByRole("button", { name: "Delete message" }).click();
  await b.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
  await b.locator("li.msg.deleted .tombstone").waitFor({ timeout: T });
  await servers[0].start();
  await a.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ state: "hidden", timeout: T });
  await message(a, "a typo here, fixed").locator(".edited").waitFor({ timeout: T });
  await a.locator("li.msg.deleted .tombstone", { hasText: "Message deleted" }).waitFor({ timeout: T });
  await send(b, "marker after the changes");
  await message(a, "marker after the changes").waitFor({ timeout: T });
  assert.equal(await message(a, "a typo here, fixed").count(), 1, "the edit shown once");
  assert.equal(await a.locator("li.msg.deleted").count(), 1, "the tombstone shown once");
  assert.equal(await message(a, "a typo hree").count(), 0, "the text before the edit");
  assert.equal(await message(a, "a secret to take back").count(), 0, "the deleted text");
  assert.equal(await a.locator(".chat-item", { hasText: bob }).locator(".preview", { hasText: "a secret" }).count(), 0);

  // Reactions: ana reacts to bob's message; bob sees the count and adds
  // his own, then takes it back.
  await send(b, "react to this");
  const target = message(a, "react to this");
  await target.waitFor({ timeout: T });
  await target.hover();
  await target.getByRole("button", { name: "React to message" }).click();
  await target.getByRole("button", { name: "React with 👍" }).click();
  const chip = (page, n) => message(page, "react to this").getByRole("button", { name: `👍 ${n}` });
  await chip(b, 1).waitFor({ timeout: T });
  assert.equal(await chip(b, 1).getAttribute("aria-pressed"), "false");
  assert.equal(await chip(a, 1).getAttribute("aria-pressed"), "true");
  await chip(b, 1).click();
  await chip(a, 2).waitFor({ timeout: T });
  await b.waitForFunction(() => document.querySelector("button.chip.me") !== null, null, { timeout: T });
  await chip(b, 2).click();
  await chip(a, 1).waitFor({ timeout: T });

  // Replies: bob quotes ana; her edit of the original reaches his quote,
  // and her deletion of it shows there as deleted, without a reload.
  await send(a, "original words");
  const orig = message(b, "original words");
  await orig.waitFor({ timeout: T });
  await orig.hover();
  await orig.getByRole("button", { name: "Reply to message" }).click();
  await b.locator(".replying", { hasText: "original words" }).waitFor({ timeout: T });
  await send(b, "my reply");
  await message(a, "my reply").locator(".quote", { hasText: "original words" }).waitFor({ timeout: T });
  await edit(a, "original words", "revised words");
  await message(b, "my reply").locator(".quote", { hasText: "revised words" }).waitFor({ timeout: T });
  const revised = message(a, "revised words");
  await revised.hover();
  await revised.getByRole("button", { name: "Delete message" }).click();
  await a.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
  await message(b, "my reply").locator(".quote", { hasText: "Message deleted" }).waitFor({ timeout: T });
  assert.equal(await b.locator(".quote", { hasText: "revised words" }).count(), 0, "the deleted text is still quoted");

  // Read receipts, mute and block (privacy.mjs).
  await receiptsMuteBlock({ a, b, bob, send, message, axe: axeCheck, T });
  await b.getByRole("button", { name: "Back to chats" }).click(); // one pane at 360 px: the profile is on the list
  await exportData({ page: b, name: bob, T }); // bob downloads his data
  await b.locator(".chat-item", { hasText: ana }).click();

  // 56 minutes on for ana: her client renews the ID token (5 minutes
  // before its hour is up) and her socket reconnects with the new one.
  const refreshed = a.waitForRequest((r) => r.url().includes("securetoken.googleapis.com"), { timeout: T });
  const reconnected = a.waitForEvent("websocket", { predicate: (ws) => ws.url().includes("/socket.io/"), timeout: T });
  await a.clock.fastForward("56:00");
  await refreshed;
  await reconnected;
  await a.locator(".conn.on").waitFor({ timeout: T });
  await b.getByRole("textbox", { name: "Message", exact: true }).fill("after her token renewal");
  await b.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await message(a, "after her token renewal").waitFor({ timeout: T });

  // bob leaves: ana sees him go offline (5 s grace, then the flip).
  const bobDot = a.locator(".chat-item", { hasText: bob }).locator(".dot");
  await a.locator(".chat-item", { hasText: bob }).locator('.dot[data-online="true"]').waitFor({ timeout: T });
  await ctxB.close();
  await a.locator(".chat-item", { hasText: bob }).locator('.dot[data-online="false"]').waitFor({ timeout: T });
  assert.match(await bobDot.getAttribute("aria-label"), new RegExp(`${bob} was last seen`));

  // bob comes back in another browser and deletes his account (privacy.mjs).
  const ctxB2 = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const b2 = await ctxB2.newPage();
  await signIn(b2, webs.urls[1], bob, bobEmail, T);
  await deleteAccount({ a, b: b2, bob, kept: message(a, "after her token renewal"), axe: axeCheck, T });
  await ctxB2.close();
  await pushUnregistered(a, pushCalls, T);
  await ctxA.close();
});
