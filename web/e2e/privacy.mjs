// privacy.mjs: the browser test's part for read receipts, mute and block,
// run by chat.e2e.mjs with ana and bob in their direct chat, both open.
import assert from "node:assert/strict";

// receiptsMuteBlock: bob reads and ana sees "Seen by bob"; ana mutes and
// unmutes; ana blocks bob, whose send is refused with the server's
// sentence, then unblocks and his next message goes through.
export async function receiptsMuteBlock({ a, b, bob, send, message, axe, T }) {
  await send(a, "did you see this");
  await message(b, "did you see this").waitFor({ timeout: T });
  // "Seen by bob" moves under the newest message once he has read it.
  await a.waitForFunction((who) => {
    const seen = document.querySelector(".messages li.seen");
    return seen && seen.textContent === `Seen by ${who}` && /did you see this/.test(seen.previousElementSibling.textContent);
  }, bob, { timeout: T });
  assert.equal(await a.locator(".messages li.seen").count(), 1, "one Seen by line");

  const options = () => a.getByRole("button", { name: "Chat options" }).click();
  await options();
  await axe(a, "the chat options menu"); // no serious or critical violation
  await a.getByRole("button", { name: "Mute for 1 hour" }).click();
  await a.locator(".chat header .status.muted", { hasText: "Muted until" }).waitFor({ timeout: T });
  await a.locator(".chat-item", { hasText: bob }).locator(".muted").waitFor({ timeout: T });
  await options();
  await a.getByRole("button", { name: "Unmute" }).click();
  await a.locator(".chat header .status.muted").waitFor({ state: "hidden", timeout: T });
  await options();
  await a.getByRole("button", { name: "Mute for until i turn it back on" }).click();
  await a.locator(".chat header .status.muted", { hasText: /^🔕 Muted$/ }).waitFor({ timeout: T });
  await options();
  await a.getByRole("button", { name: "Unmute" }).click();
  await a.locator(".chat header .status.muted").waitFor({ state: "hidden", timeout: T });

  await options();
  await a.getByRole("button", { name: `Block ${bob}` }).click();
  await a.getByRole("dialog", { name: `Block ${bob}?` }).getByRole("button", { name: "Block" }).click();
  await a.locator(".blocked", { hasText: `You blocked ${bob}` }).waitFor({ timeout: T });
  await send(b, "can you hear me");
  await b.locator(".pending.failed .error", { hasText: "One of you has blocked the other" }).waitFor({ timeout: T });
  await b.locator(".pending.failed").getByRole("button", { name: "Discard" }).click();
  await a.locator(".blocked").getByRole("button", { name: "Unblock" }).click();
  await a.locator(".blocked").waitFor({ state: "hidden", timeout: T });
  await send(b, "and now");
  await message(a, "and now").waitFor({ timeout: T });
  assert.equal(await message(a, "can you hear me").count(), 0, "the refused send reached ana");
}

// exportData: the profile's "Download my data" saves the user's data,
// which parses as the contract's NDJSON: the user first, then chats and
// their own messages.
export async function exportData({ page, name, T }) {
  await page.getByRole("button", { name: `Profile: ${name}` }).click();
  const profile = page.getByRole("dialog", { name: "Profile" });
  const downloading = page.waitForEvent("download", { timeout: T });
  await profile.getByRole("button", { name: "Download my data" }).click();
  const file = await downloading;
  assert.equal(file.suggestedFilename(), "chatapp-export.ndjson");
  const { readFile } = await import("node:fs/promises");
  const lines = (await readFile(await file.path(), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines[0].me.username, name);
  assert.ok(lines.some((l) => l.chat), "no chat in the export");
  assert.ok(lines.some((l) => l.message && l.message.sender.username === name), "none of the user's messages in the export");
  assert.ok(lines.every((l) => !l.message || l.message.senderId === lines[0].me.id), "someone else's message exported");
  await profile.getByRole("button", { name: "Cancel" }).click();
}

// deleteAccount: bob deletes his account from the profile, after a
// confirmation that says what stays, and is signed out; ana's direct chat
// with him now shows "Deleted user", his earlier message (kept) still in
// it.
export async function deleteAccount({ a, b, bob, kept, axe, T }) {
  await b.getByRole("button", { name: `Profile: ${bob}` }).click();
  await b.getByRole("dialog", { name: "Profile" }).getByRole("button", { name: "Delete my account…" }).click();
  const confirm = b.getByRole("dialog", { name: "Delete your account?" });
  await confirm.getByText("Your messages stay in the chats under “Deleted user”").waitFor({ timeout: T });
  await axe(b, "the account deletion's confirmation");
  await confirm.getByRole("button", { name: "Delete my account" }).click();
  await b.getByRole("form", { name: "Sign in" }).waitFor({ timeout: T });
  await a.locator(".chat-item", { hasText: "Deleted user" }).waitFor({ timeout: T });
  assert.equal(await a.locator(".chat-item", { hasText: bob }).count(), 0, "ana's list still names bob");
  await kept.waitFor({ timeout: T });
}
