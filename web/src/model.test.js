// Unit tests of the client's state rules: `node --test src/` (no browser).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyPresence, applyQuotes, chatTitle, imageType, isImage, maxRev, mentionAt, mentionsIn, mergeChanges, mergeMessages, quoteOf,
  retryable, retryDelay, sortChats, typingLine, withMessage, seenBy, applyReadMark, isMuted, muteLabel, MUTED_FOREVER, renewIn,
} from "./model.js";

const msg = (id, at) => ({ id, createdAt: `2026-11-27T08:00:${String(at).padStart(2, "0")}.000Z` });

test("mergeMessages keeps each id once, in (createdAt, id) order", () => {
  const live = [msg("b", 2)];
  const page = [msg("a", 1), msg("b", 2), msg("c", 2)];
  assert.deepEqual(mergeMessages(live, page).map((m) => m.id), ["a", "b", "c"]);
  const twice = mergeMessages(mergeMessages(live, page), [msg("c", 2), msg("a", 1)]);
  assert.deepEqual(twice.map((m) => m.id), ["a", "b", "c"], "a catch-up page repeating live events adds nothing");
});

test("mergeMessages returns the same list when nothing is new", () => {
  const items = [msg("a", 1)];
  assert.equal(mergeMessages(items, [msg("a", 1)]), items);
});

test("withMessage keeps the newer last message", () => {
  const chat = { id: "c", createdAt: msg("x", 0).createdAt, messages: [msg("b", 5)] };
  assert.equal(withMessage(chat, msg("a", 3)), chat, "an older summary arriving late changes nothing");
  assert.deepEqual(withMessage(chat, msg("c", 6)).messages, [msg("c", 6)]);
});

test("mergeMessages keeps each message's latest state by rev", () => {
  const sent = { ...msg("a", 1), rev: "0000000000000001", content: "tpyo" };
  const edited = { ...sent, rev: "0000000000000003", content: "typo", editedAt: msg("", 2).createdAt };
  const items = mergeMessages([sent], [edited]);
  assert.equal(items[0].content, "typo");
  assert.equal(mergeMessages(items, [sent]), items, "an older state arriving late (a page) undoes nothing");
});

test("mergeChanges updates what is held and adds only what is newer than the oldest held", () => {
  const items = [{ ...msg("b", 5), rev: "05" }, { ...msg("c", 6), rev: "06" }];
  const out = mergeChanges(items, [{ ...msg("a", 1), rev: "09" }, { ...msg("b", 5), rev: "08", deletedAt: "x" }, { ...msg("d", 7), rev: "07" }]);
  assert.deepEqual(out.map((m) => `${m.id}${m.rev}`), ["b08", "c06", "d07"], "a change to a message never loaded stays out");
  assert.equal(mergeChanges([], [msg("a", 1)]).length, 0);
});

test("withMessage takes a newer state of the same last message", () => {
  const last = { ...msg("b", 5), rev: "02" };
  const chat = { id: "c", messages: [last] };
  assert.equal(withMessage(chat, { ...last, rev: "01" }), chat);
  assert.equal(withMessage(chat, { ...last, rev: "03", deletedAt: "x" }).messages[0].rev, "03");
  assert.equal(maxRev("02", "10"), "10");
  assert.equal(maxRev("", "01"), "01");
});

test("applyQuotes follows the quoted message's edits and deletion", () => {
  const orig = { ...msg("a", 1), senderId: "u", sender: { username: "ana" }, content: "é".repeat(250), fileName: "" };
  const reply = { ...msg("b", 2), replyTo: quoteOf(orig) };
  assert.equal(reply.replyTo.content.length, 200, "cut to 200 code points");
  const edited = applyQuotes([orig, reply], [{ ...orig, content: "short" }]);
  assert.equal(edited[1].replyTo.content, "short");
  const gone = applyQuotes(edited, [{ ...orig, content: "", deletedAt: "x" }]);
  assert.deepEqual([gone[1].replyTo.deleted, gone[1].replyTo.content], [true, ""]);
  const items = [reply];
  assert.equal(applyQuotes(items, [msg("z", 3)]), items, "nothing quoted changed");
});

test("mentions are the members named whole, and @ being typed offers them", () => {
  const members = [{ userId: "me", user: { username: "me" } }, { userId: "a", user: { username: "ana" } }, { userId: "b", user: { username: "b.o+b" } }];
  assert.deepEqual(mentionsIn("hi @ana, @b.o+b and @me", members, "me"), ["a", "b"]);
  assert.deepEqual(mentionsIn("mail x@ana or @anastasia", members, "me"), []);
  assert.equal(mentionAt("hello @an"), "an");
  assert.equal(mentionAt("hello @"), "");
  assert.equal(mentionAt("x@an"), null);
  assert.equal(mentionAt("@ana done"), null);
});

test("sortChats puts the most recent activity first", () => {
  const quiet = { id: "q", createdAt: msg("", 9).createdAt, messages: [] };
  const busy = { id: "b", createdAt: msg("", 0).createdAt, messages: [msg("m", 10)] };
  const old = { id: "o", createdAt: msg("", 0).createdAt, messages: [msg("n", 1)] };
  assert.deepEqual(sortChats([old, quiet, busy]).map((c) => c.id), ["b", "q", "o"]);
});

test("chatTitle names a direct chat after the other member", () => {
  const chat = { isGroup: false, users: [{ userId: "me", user: { username: "me" } }, { userId: "x", user: { username: "bob" } }] };
  assert.equal(chatTitle(chat, "me"), "bob");
  assert.equal(chatTitle({ isGroup: true, name: "team", users: [] }, "me"), "team");
});

test("applyPresence updates the user in every chat and nothing else", () => {
  const bob = { userId: "bob", user: { id: "bob", username: "bob", online: false, lastSeen: null } };
  const ana = { userId: "ana", user: { id: "ana", username: "ana", online: true, lastSeen: "t0" } };
  const chats = new Map([["1", { id: "1", users: [ana, bob] }], ["2", { id: "2", users: [ana] }]]);
  const out = applyPresence(chats, { userId: "bob", online: true, lastSeen: "t1" });
  assert.equal(out.get("1").users[1].user.online, true);
  assert.equal(out.get("1").users[1].user.lastSeen, "t1");
  assert.equal(out.get("2"), chats.get("2"), "a chat without the user is the same object");
});

test("typingLine names one or two typists and counts more", () => {
  const t = (...names) => new Map(names.map((n) => [n, { username: n }]));
  assert.equal(typingLine(t()), "");
  assert.equal(typingLine(t("bob")), "bob is typing…");
  assert.equal(typingLine(t("bob", "ana")), "ana and bob are typing…");
  assert.equal(typingLine(t("a", "b", "c")), "3 people are typing…");
});

test("isImage matches what the server serves inline", () => {
  for (const n of ["a.png", "b.JPG", "c.jpeg", "d.gif", "e.webp"]) assert.ok(isImage(n), n);
  for (const n of ["a.svg", "b.html", "c.png.exe", "", undefined]) assert.ok(!isImage(n), String(n));
});

test("retry rules: what is retried and how long it waits", () => {
  for (const s of [0, 429, 500, 503]) assert.ok(retryable(s), String(s));
  for (const s of [400, 401, 403, 404, 409, 413]) assert.ok(!retryable(s), String(s));
  assert.equal(retryDelay(0, 7), 7000, "Retry-After wins");
  assert.equal(retryDelay(0, 0, () => 0), 250);
  assert.equal(retryDelay(0, 0, () => 1), 500);
  assert.equal(retryDelay(10, 0, () => 1), 15000, "capped");
});

test("imageType trusts the bytes, not the name", () => {
  const bytes = (...b) => new Uint8Array([...b, ...new Array(16).fill(0)]);
  assert.equal(imageType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), "image/png");
  assert.equal(imageType(bytes(0xff, 0xd8, 0xff, 0xe0)), "image/jpeg");
  assert.equal(imageType(bytes(0x47, 0x49, 0x46, 0x38, 0x39, 0x61)), "image/gif");
  assert.equal(imageType(bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50)), "image/webp");
  assert.equal(imageType(new TextEncoder().encode("<html><script>alert(1)</script>")), "");
  assert.equal(imageType(new Uint8Array([0x89, 0x50])), "");
  assert.equal(imageType(new TextEncoder().encode("GIF87b")), "");
});

test("linkify makes http(s) links only, without trailing punctuation", async () => {
  const { linkify } = await import("./model.js");
  assert.deepEqual(linkify("see https://example.org/a?b=1. ok"), [
    { text: "see " }, { text: "https://example.org/a?b=1", href: "https://example.org/a?b=1" }, { text: ". ok" },
  ]);
  assert.deepEqual(linkify("javascript:alert(1) data:text/html,x"), [{ text: "javascript:alert(1) data:text/html,x" }]);
  assert.deepEqual(linkify("(http://a.b)"), [{ text: "(" }, { text: "http://a.b", href: "http://a.b" }, { text: ")" }]);
});

test("grouped joins a sender's messages of one day within 5 minutes", async () => {
  const { grouped } = await import("./model.js");
  const m = (s, at) => ({ senderId: s, createdAt: at });
  assert.equal(grouped(m("a", "2026-11-27T08:00:00.000Z"), m("a", "2026-11-27T08:04:00.000Z")), true);
  assert.equal(grouped(m("a", "2026-11-27T08:00:00.000Z"), m("a", "2026-11-27T08:06:00.000Z")), false);
  assert.equal(grouped(m("a", "2026-11-27T08:00:00.000Z"), m("b", "2026-11-27T08:01:00.000Z")), false);
  assert.equal(grouped(null, m("b", "2026-11-27T08:01:00.000Z")), false);
});

test("dayLabel says Today and Yesterday, else the date", async () => {
  const { dayLabel } = await import("./model.js");
  const now = new Date(2026, 11, 6, 12);
  assert.equal(dayLabel(new Date(2026, 11, 6, 0, 5).toISOString(), now), "Today");
  assert.equal(dayLabel(new Date(2026, 11, 5, 23, 59).toISOString(), now), "Yesterday");
  assert.match(dayLabel(new Date(2026, 10, 1, 9).toISOString(), now), /2026/);
});

test("fileError refuses files over 10 MiB before upload", async () => {
  const { fileError } = await import("./model.js");
  assert.equal(fileError({ size: 10 << 20 }), "");
  assert.equal(fileError({ size: (10 << 20) + 1 }), "The file is larger than 10 MiB.");
});

test("authMessage never shows a raw code", async () => {
  const { authMessage } = await import("./model.js");
  assert.equal(authMessage("auth/user-not-found"), "Wrong email or password.");
  assert.equal(authMessage("auth/something-new"), "Signing in failed. Try again.");
});

test("unreadTitle and chatFromURL", async () => {
  const { unreadTitle, chatFromURL } = await import("./model.js");
  assert.equal(unreadTitle([{ unreadCount: 2 }, { unreadCount: 0 }, {}]), "(2) ChatApp");
  assert.equal(unreadTitle([]), "ChatApp");
  assert.equal(chatFromURL("http://x/?chat=abc_1"), "abc_1");
  assert.equal(chatFromURL("http://x/?chat=../etc"), null);
  assert.equal(chatFromURL("http://x/"), null);
});

test("changeNotes says what changed in a group", async () => {
  const { changeNotes } = await import("./model.js");
  const cu = (id) => ({ userId: id, user: { username: id } });
  const old = { isGroup: true, name: "a", users: [cu("ana"), cu("bob")] };
  assert.deepEqual(changeNotes(old, { isGroup: true, name: "b", users: [cu("ana"), cu("cem")] }),
    ["Renamed to “b”", "cem joined", "bob left"]);
  assert.deepEqual(changeNotes(old, old), []);
  assert.deepEqual(changeNotes(null, old), []);
});

test("seenBy: under the newest message others read, names or a count", () => {
  const items = [{ id: "000000000001aaaa" }, { id: "000000000002bbbb" }, { id: "000000000003cccc" }];
  const member = (userId, lastReadMessageId) => ({ userId, lastReadMessageId, user: { username: userId } });
  const chat = { users: [member("me", items[2].id), member("bob", items[1].id), member("cid", "")] };
  assert.deepEqual(seenBy(chat, items, "me"), { id: items[1].id, text: "Seen by bob" });
  assert.equal(seenBy({ users: [member("me", items[2].id)] }, items, "me"), null, "my own marker is not a receipt");
  const many = { users: ["a", "b", "c", "d"].map((u) => member(u, items[2].id)) };
  assert.deepEqual(seenBy(many, items, "me"), { id: items[2].id, text: "Seen by 4 people" });
  const moved = applyReadMark(new Map([["c", { id: "c", ...chat }]]), { chatId: "c", userId: "cid", lastReadMessageId: items[2].id, lastReadAt: "x" });
  assert.deepEqual(seenBy(moved.get("c"), items, "me"), { id: items[2].id, text: "Seen by cid" });
  assert.equal(applyReadMark(moved, { chatId: "c", userId: "eve", lastReadMessageId: "z" }), moved, "not a member: unchanged");
});

test("isMuted and muteLabel: expired mutes read as not muted", () => {
  const now = Date.parse("2026-01-01T10:00:00.000Z");
  assert.equal(isMuted({ mutedUntil: null }, now), false);
  assert.equal(isMuted({ mutedUntil: "2026-01-01T09:00:00.000Z" }, now), false);
  assert.equal(isMuted({ mutedUntil: "2026-01-01T11:00:00.000Z" }, now), true);
  assert.equal(muteLabel({ mutedUntil: MUTED_FOREVER }, now), "Muted");
  assert.equal(muteLabel({ mutedUntil: "2026-01-01T09:00:00.000Z" }, now), "");
});

test("renewIn times a just-renewed token by its lifetime, whatever the device's clock", () => {
  const token = { issuedAtTime: "2026-12-07T10:00:00.000Z", expirationTime: "2026-12-07T11:00:00.000Z" };
  const ahead = 5 * 60_000;
  const skewed = Date.parse("2026-12-07T10:56:00.000Z"); // a device clock 56 minutes ahead
  assert.equal(renewIn(token, skewed, true, ahead), 55 * 60_000);
  assert.equal(renewIn(token, Date.parse("2026-12-07T10:00:00.000Z"), false, ahead), 55 * 60_000);
  assert.equal(renewIn(token, Date.parse("2026-12-07T10:30:00.000Z"), false, ahead), 25 * 60_000);
  assert.equal(renewIn(token, skewed, false, ahead), 10_000, "a token the app did not renew is timed by the device's clock, at least 10 s");
});

