// model.js: the client's state rules as pure functions, with no browser and
// no network, so they are unit tested with `node --test` (model.test.js).
// Every function returns new values; the store swaps them in.

// byOrder orders messages as the contract does: by (createdAt, id).
// createdAt has fixed-width RFC 3339 UTC form, so strings compare as times.
export function byOrder(a, b) {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// newer tells whether m is a later state of the message held: every
// change (edit, delete) gives a message a greater rev, and revs of one
// chat compare as strings.
export function newer(m, held) {
  return (m.rev || "") > (held.rev || "");
}

// maxRev is the greater of two revs ("" for none).
export function maxRev(a, b) {
  return (a || "") > (b || "") ? a : b || "";
}

// mergeMessages adds incoming messages to a sorted list, each id once, in
// its latest state (by rev). Live events, catch-up pages and retries all
// go through it, which is why nothing is ever shown twice, nor an edit
// undone, whatever order they arrive in.
export function mergeMessages(items, incoming) {
  const seen = new Map(items.map((m) => [m.id, m]));
  let changed = false;
  for (const m of incoming) {
    const held = seen.get(m.id);
    if (!held || newer(m, held)) {
      seen.set(m.id, m);
      changed = true;
    }
  }
  if (!changed) return items;
  return [...seen.values()].sort(byOrder);
}

// mergeChanges applies changed messages (messageUpdated, a changedAfter
// page) to a loaded history: messages held take their newer state, and
// only messages newer than the oldest loaded are added — a change to one
// never loaded would otherwise appear alone above a hole in the history.
export function mergeChanges(items, incoming) {
  if (!items.length) return items;
  const held = new Set(items.map((m) => m.id));
  return mergeMessages(items, incoming.filter((m) => held.has(m.id) || byOrder(m, items[0]) > 0));
}

// lastMessage is a chat's newest message, if the list or an event gave one.
export function lastMessage(chat) {
  const ms = chat.messages || [];
  return ms.length ? ms[ms.length - 1] : null;
}

// activity is when a chat last changed, for ordering the chat list.
export function activity(chat) {
  const m = lastMessage(chat);
  return m ? m.createdAt : chat.createdAt;
}

// sortChats orders chats most recent activity first (ties by id, stable).
export function sortChats(chats) {
  return [...chats].sort((a, b) => {
    const x = activity(a);
    const y = activity(b);
    if (x !== y) return x < y ? 1 : -1;
    return a.id < b.id ? -1 : 1;
  });
}

// withMessage records m as chat's last message if it is newer than the
// one known: a summary or newMessage can arrive after a fresher list.
export function withMessage(chat, m) {
  const last = lastMessage(chat);
  if (last && last.id === m.id ? !newer(m, last) : last && byOrder(m, last) <= 0) return chat;
  return { ...chat, messages: [m] };
}

// otherMember is the member of a direct chat who is not me.
export function otherMember(chat, meId) {
  const cu = (chat.users || []).find((u) => u.userId !== meId);
  return cu ? cu.user : null;
}

// chatTitle is what the list and the header call a chat.
export function chatTitle(chat, meId) {
  if (chat.isGroup) return chat.name || "Group";
  const other = otherMember(chat, meId);
  return other ? other.username : "Direct chat";
}

// applyPresence records a presence event in every chat member it names,
// so the dots and "last seen" lines read from one place: the chats.
export function applyPresence(chats, p) {
  const out = new Map();
  for (const [id, chat] of chats) {
    let touched = false;
    const users = (chat.users || []).map((cu) => {
      if (cu.userId !== p.userId) return cu;
      touched = true;
      return { ...cu, user: { ...cu.user, online: p.online, lastSeen: p.lastSeen } };
    });
    out.set(id, touched ? { ...chat, users } : chat);
  }
  return out;
}

// typingLine is the sentence shown under a chat for who is typing.
export function typingLine(typers) {
  const names = [...typers.values()].map((t) => t.username).sort();
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

// isImage tells whether an attachment may be an image to show inline (by
// its name); imageType decides from its bytes.
export function isImage(fileName) {
  return /\.(png|jpe?g|gif|webp)$/i.test(fileName || "");
}

// imageType is the image type of a file's first bytes: png, jpeg, gif or
// webp, else "". Only such bytes become a blob: URL on the app's origin —
// a file's name is the sender's claim, and an HTML file named x.png opened
// from a blob: URL would run as a page of the app.
export function imageType(bytes) {
  const starts = (sig, at = 0) => sig.every((b, i) => b === null || bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return "";
}

// retryDelay is how long to wait before the attempt-th retry of a send:
// the server's Retry-After when it gave one, else capped exponential
// backoff with jitter so many clients back from an outage do not align.
export function retryDelay(attempt, retryAfterSeconds, random = Math.random) {
  if (retryAfterSeconds > 0) return retryAfterSeconds * 1000;
  const base = Math.min(500 * 2 ** attempt, 15000);
  return Math.round(base / 2 + random() * (base / 2));
}

// retryable tells whether a failed send may be tried again with the same
// clientMessageId: no answer at all, a rate limit, or a server fault.
// Other client errors (400, 403, 404, 413) will fail the same way again.
export function retryable(status) {
  return status === 0 || status === 429 || status >= 500;
}

// MAX_FILE_BYTES is the contract's attachment limit (10 MiB): a larger
// file is refused before a byte is uploaded.
export const MAX_FILE_BYTES = 10 << 20;

// fileError is the sentence for a file that cannot be sent, or "".
export function fileError(file) {
  if (file && file.size > MAX_FILE_BYTES) return "The file is larger than 10 MiB.";
  return "";
}

// linkify splits text into plain runs and http(s) links. Only those two
// schemes become links (never javascript: or data:); a link's trailing
// punctuation stays text, as readers expect of "see https://x.org.".
export function linkify(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"]+/gi;
  let at = 0;
  for (const m of text.matchAll(re)) {
    let href = m[0];
    const trail = href.match(/[.,;:!?)\]}'"]+$/);
    if (trail) href = href.slice(0, -trail[0].length);
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: href, href });
    at = m.index + href.length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

// quoteOf is a message as a reply quotes it, as the server makes it: the
// content cut to 200 code points, nothing of a deleted message's.
export function quoteOf(m) {
  const deleted = !!m.deletedAt;
  return {
    id: m.id, senderId: m.senderId, username: m.sender ? m.sender.username : "",
    content: deleted ? "" : [...(m.content || "")].slice(0, 200).join(""), fileName: deleted ? "" : m.fileName || "", deleted,
  };
}

// applyQuotes refreshes the quotes in items of the messages that changed:
// the server rewrites stored quotes without an event of their own.
export function applyQuotes(items, changed) {
  const byId = new Map(changed.map((m) => [m.id, m]));
  let touched = false;
  const out = items.map((m) => {
    const q = m.replyTo && byId.get(m.replyTo.id);
    if (!q) return m;
    touched = true;
    return { ...m, replyTo: quoteOf(q) };
  });
  return touched ? out : items;
}

// mentionsIn returns the uids of the members named "@username" in text
// (whole names only), without duplicates, in member order.
export function mentionsIn(text, members, meId) {
  return members.filter((cu) => cu.userId !== meId && new RegExp(`(^|\\s)@${escapeRe(cu.user.username)}(?=$|[\\s.,;:!?)])`, "u").test(text))
    .map((cu) => cu.userId);
}

// mentionAt is the "@prefix" being typed at the end of text before the
// caret, or null.
export function mentionAt(before) {
  const m = /(^|\s)@([^\s@]*)$/u.exec(before);
  return m ? m[2] : null;
}

// escapeRe quotes s for use as a literal in a regular expression.
export function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// dayOf is a time's calendar day in the reader's time zone (a key).
export function dayOf(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

// dayLabel names a day for a separator: Today, Yesterday, or the date.
export function dayLabel(iso, now = new Date()) {
  const key = dayOf(iso);
  if (key === dayOf(now.toISOString())) return "Today";
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (key === dayOf(y.toISOString())) return "Yesterday";
  return new Date(iso).toLocaleDateString([], { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

// grouped tells whether a message continues its predecessor's run: same
// sender, same day, within 5 minutes. A run shows name and time once.
export function grouped(prev, m) {
  if (!prev || prev.senderId !== m.senderId || dayOf(prev.createdAt) !== dayOf(m.createdAt)) return false;
  return Date.parse(m.createdAt) - Date.parse(prev.createdAt) < 5 * 60_000;
}

// unreadTitle is the tab's title: the unread count in front when any.
export function unreadTitle(chats) {
  let n = 0;
  for (const c of chats) n += c.unreadCount || 0;
  return n > 0 ? `(${n}) ChatApp` : "ChatApp";
}

// authMessages turns Firebase Auth error codes into sentences; any other
// code gets a generic one, never the raw code.
const authMessages = {
  "auth/invalid-credential": "Wrong email or password.",
  "auth/user-not-found": "Wrong email or password.",
  "auth/wrong-password": "Wrong email or password.",
  "auth/invalid-login-credentials": "Wrong email or password.",
  "auth/email-already-in-use": "An account with this email exists: sign in instead.",
  "auth/weak-password": "The password needs at least 6 characters.",
  "auth/invalid-email": "That email address is not valid.",
  "auth/missing-password": "Enter your password.",
  "auth/too-many-requests": "Too many attempts: wait a minute and try again.",
  "auth/user-disabled": "This account is disabled.",
  "auth/network-request-failed": "The sign-in service cannot be reached. Check your connection.",
};

export function authMessage(code) {
  return authMessages[code] || "Signing in failed. Try again.";
}

// chatFromURL is the chat a URL opens (`?chat=<id>`), or null.
export function chatFromURL(href) {
  const id = new URL(href).searchParams.get("chat");
  return id && /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : null;
}

// changeNotes are the lines a group's change makes in its conversation,
// from the chat as it was and as an event or answer gives it now: a
// rename, who joined, who is gone. (Events do not say who acted.)
export function changeNotes(old, next) {
  if (!old || !next.isGroup) return [];
  const out = [];
  if (old.name !== next.name) out.push(`Renamed to “${next.name}”`);
  const before = new Map((old.users || []).map((cu) => [cu.userId, cu.user.username]));
  const after = new Map((next.users || []).map((cu) => [cu.userId, cu.user.username]));
  for (const [id, name] of after) if (!before.has(id)) out.push(`${name} joined`);
  for (const [id, name] of before) if (!after.has(id)) out.push(`${name} left`);
  return out;
}

// applyReadMark moves a member's read marker in the chat list (messagesRead).
export function applyReadMark(chats, mark) {
  const c = chats.get(mark.chatId);
  if (!c || !c.users.some((cu) => cu.userId === mark.userId)) return chats;
  const next = new Map(chats);
  next.set(mark.chatId, {
    ...c,
    users: c.users.map((cu) => (cu.userId === mark.userId
      ? { ...cu, lastReadMessageId: mark.lastReadMessageId, lastReadAt: mark.lastReadAt } : cu)),
  });
  return next;
}

// SEEN_NAMES is how many names "Seen by" lists; beyond it, a count.
const SEEN_NAMES = 3;

// seenBy places "Seen by" under the newest loaded message that other
// members have read (ids sort like the chat's order): {id, text}, or null
// when no one else has read any of them.
export function seenBy(chat, items, meId) {
  const readers = (chat.users || []).filter((cu) => cu.userId !== meId && cu.lastReadMessageId);
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i];
    const who = readers.filter((cu) => cu.lastReadMessageId >= m.id);
    if (who.length === 0) continue;
    const names = who.map((cu) => cu.user.username);
    const text = names.length > SEEN_NAMES ? `Seen by ${names.length} people` : `Seen by ${names.join(", ")}`;
    return { id: m.id, text };
  }
  return null;
}

// MUTED_FOREVER is the contract's "until unmuted".
export const MUTED_FOREVER = "9999-12-31T23:59:59.999Z";

// isMuted tells whether the chat is muted for the user now.
export function isMuted(chat, now = Date.now()) {
  return !!chat.mutedUntil && Date.parse(chat.mutedUntil) > now;
}

// muteLabel says until when a chat is muted.
export function muteLabel(chat, now = Date.now()) {
  if (!isMuted(chat, now)) return "";
  if (chat.mutedUntil === MUTED_FOREVER) return "Muted";
  return `Muted until ${new Date(chat.mutedUntil).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}

// renewIn is how long to wait before renewing an ID token, `ahead` before
// it expires (at least 10 s). A token just renewed is timed by its own
// lifetime (expiry − issue, both the server's clock) from now: a device
// clock that is off by most of an hour would otherwise renew it every
// 10 s, reconnecting the socket each time. A token the app did not just
// renew (the one it starts with) can only be timed by the device's clock.
export function renewIn({ expirationTime, issuedAtTime }, now, fresh, ahead) {
  const left = fresh ? Date.parse(expirationTime) - Date.parse(issuedAtTime) : Date.parse(expirationTime) - now;
  return Math.max(left - ahead, 10_000);
}
