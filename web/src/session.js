// session.js: one signed-in user's connection to the backend — the REST
// client, the Socket.IO connection and the store — and the rules that keep
// the screen true to the server under real network life:
//
//   - the socket authenticates with a fresh ID token on every (re)connect,
//     and reconnects on its own when the SDK refreshes the token, so the
//     server never has to cut it for an expired one (token.js);
//   - after every reconnect (server restart, Cloud Run's 60-minute cut, a
//     move to another instance) the chat list is refetched and each loaded
//     chat catches up with `?after=` its newest message, then with
//     `?changedAfter=` the greatest rev it had received (edits, deletions);
//     mergeMessages keeps every id once in its latest state, so nothing is
//     missed, shown twice or undone;
//   - a send carries a clientMessageId and is retried with it (the
//     outbox, outbox.js: in order per chat, resent on reconnect, kept
//     across reloads);
//   - the open chat is in the URL (`?chat=<id>`), so reload and Back work.
import { io } from "socket.io-client";
import { Api } from "./api.js";
import { Store } from "./store.js";
import {
  applyPresence, applyQuotes, changeNotes, chatFromURL, lastMessage, mergeChanges, mergeMessages, withMessage,
} from "./model.js";
import { Gaps } from "./catchup.js";
import { Outbox } from "./outbox.js";
import { Typing } from "./typing.js";
import { Privacy } from "./privacy.js";
import { Push } from "./push.js";
import { Tokens } from "./token.js";

// Session is the signed-in user's state and actions.
export class Session {
  constructor(config, auth, user) {
    this.user = user;
    this.api = new Api(config.apiUrl, () => user.getIdToken());
    this.store = new Store({
      me: null,
      chats: new Map(), // id → Chat (its `messages`: the last one known)
      history: new Map(), // id → {items, hasOlder, loading}
      pending: new Map(), // clientMessageId → {chatId, content, fileName, progress, error}
      typing: new Map(), // chatId → Map userId → {username, until}
      notes: new Map(), // chatId → [{id, at, text}]: group changes seen here
      replying: new Map(), // chatId → the message the composer's next send quotes
      blocked: new Set(), // uids this user blocks
      openId: null,
      openedUnread: 0, // the open chat's unread count when it was opened
      connected: false,
      loaded: false, // the chat list has arrived once
      announce: "", // the latest arrival, for screen readers
      error: "",
    });
    this.leaving = new Set(); // chats this user is leaving or deleting: no error when they go
    this.gaps = new Gaps(this);
    this.outbox = new Outbox(this);
    this.onPop = () => this.open(chatFromURL(location.href), { history: "none" });
    this.readTimer = null;
    this.typing = new Typing(this);
    this.privacy = new Privacy(this); // receipts, mutes, blocks
    this.push = new Push(this, config);
    this.socket = io(config.apiUrl, {
      transports: ["websocket"], // Cloud Run: no sticky polling needed
      autoConnect: false,
      auth: (cb) => this.tokens.forSocket(cb), // every (re)connect: the current token
    });
    this.tokens = new Tokens(auth, user, this.socket); // token.js
    this.wire();
  }

  get state() { return this.store.state; }

  async start() {
    this.outbox.restore();
    this.wantOpen = chatFromURL(location.href);
    window.addEventListener("popstate", this.onPop);
    try {
      this.store.set({ me: await this.api.me() });
    } catch (err) {
      this.fail(err);
    }
    this.socket.connect();
    this.tokens.refresh();
    this.privacy.loadBlocks();
    this.push.start();
  }

  stop() {
    window.removeEventListener("popstate", this.onPop);
    this.tokens.stop();
    clearTimeout(this.resyncTimer);
    this.socket.disconnect();
    clearTimeout(this.readTimer);
  }

  fail(err) {
    this.store.set({ error: err.message || String(err) });
  }

  wire() {
    const s = this.socket;
    s.on("connect", () => {
      this.store.set({ connected: true });
      this.resync().then(() => this.outbox.resendOffline());
    });
    s.on("disconnect", (reason) => {
      this.store.set({ connected: false, typing: new Map() });
      this.markGaps();
      // The server cut us (token expired, instance shutting down): the
      // client does not retry that by itself.
      if (reason === "io server disconnect") setTimeout(() => s.connect(), 500);
    });
    s.on("connect_error", (err) => {
      this.store.set({ connected: false });
      // Refused by the server (not a network error): socket.io will not
      // retry; refresh the token in case it was the reason and try again.
      if (!s.active) setTimeout(() => this.user.getIdToken(true).finally(() => s.connect()), 2000);
      if (err.message === "rate_limited") this.fail(new Error("Too many connections: close some tabs."));
    });
    s.on("newMessage", (m) => this.onMessage(m));
    s.on("messageUpdated", (m) => this.onUpdated(m));
    s.on("chatSummary", (sum) => this.updateChat(sum.chatId, (c) => ({ ...withMessage(c, sum.message), unreadCount: sum.unreadCount })));
    s.on("newChat", (chat) => this.putChat(chat));
    s.on("chatUpdated", (chat) => this.putChat(chat));
    s.on("chatInfo", (chat) => this.putChat(chat)); // lists and headers of chats not open
    s.on("chatDeleted", (id) => this.dropChat(id));
    s.on("presence", (p) => this.store.set((st) => ({ chats: applyPresence(st.chats, p) })));
    this.privacy.wire(s);
    s.on("typing", (t) => this.setTyping(t, true));
    s.on("stopTyping", (t) => this.setTyping(t, false));
  }

  // resync makes the screen true again after a (re)connect: events sent
  // while the socket was down are gone, so state is refetched. A failed
  // refetch (an instance just started, a blip) is tried again while the
  // socket stays connected: nothing else would bring the missed events.
  async resync(attempt = 0) {
    clearTimeout(this.resyncTimer);
    try {
      const chats = new Map();
      let before = null;
      for (let page = 0; page < 10; page++) {
        const res = await this.api.chats(before);
        for (const c of res.chats) chats.set(c.id, c);
        before = res.nextBefore;
        if (!before) break;
      }
      this.store.set({ chats, loaded: true });
      if (this.wantOpen) { // the chat the page was loaded with
        const id = this.wantOpen;
        this.wantOpen = null;
        if (chats.has(id)) this.open(id, { history: "none" });
        else history.replaceState(null, "", location.pathname);
      }
      const open = this.state.openId;
      if (open && !chats.has(open)) this.store.set({ openId: null });
      else if (open) this.socket.emit("joinChat", open); // rooms are per socket
      for (const id of this.state.history.keys()) {
        if (chats.has(id)) await this.catchUp(id);
      }
    } catch (err) {
      if (attempt >= 2) this.fail(err);
      if (this.socket.connected) this.resyncTimer = setTimeout(() => this.resync(attempt + 1), Math.min(1000 * 2 ** attempt, 30_000));
    }
  }

  // The catch-up after a reconnect is catchup.js's.
  markGaps() { this.gaps.mark(); }

  noteRev(id, messages) { this.gaps.note(id, messages); }

  catchUp(id) { return this.gaps.catchUp(id); }

  // applyChanges takes changed messages into a loaded history and the
  // chat list's last message.
  applyChanges(id, messages) {
    this.noteRev(id, messages);
    this.store.set((st) => {
      const h = st.history.get(id);
      if (!h) return {};
      const history = new Map(st.history);
      history.set(id, { ...h, items: applyQuotes(mergeChanges(h.items, messages), messages) });
      return { history };
    });
    for (const m of messages) this.updateChat(id, (c) => withMessage(c, m));
  }

  addHistory(id, messages, patch = {}, own = false) {
    if (!own) this.noteRev(id, messages);
    this.store.set((st) => {
      const history = new Map(st.history);
      const h = history.get(id) || { items: [], hasOlder: true, loading: false };
      history.set(id, { ...h, ...patch, items: mergeMessages(h.items, messages) });
      return { history };
    });
  }

  // loadOlder fetches the page before the oldest loaded message.
  async loadOlder(id) {
    const h = this.state.history.get(id);
    if (h && (h.loading || !h.hasOlder)) return;
    this.addHistory(id, [], { loading: true });
    try {
      const res = await this.api.messagesBefore(id, h && h.items.length ? h.items[0].id : null);
      this.addHistory(id, res.messages, { loading: false, hasOlder: res.nextBefore !== null });
    } catch (err) {
      this.addHistory(id, [], { loading: false });
      this.fail(err);
    }
  }

  // open shows a chat: its room gives typing and chatUpdated, and joining
  // marks it read. The URL follows (history "push": a new entry, so Back
  // returns to the list; "none" when the URL already says it).
  open(id, { history: how = "push" } = {}) {
    const prev = this.state.openId;
    if (prev === id) return;
    if (how === "push") history.pushState(id ? { chat: id } : null, "", id ? `?chat=${encodeURIComponent(id)}` : location.pathname);
    if (prev) {
      this.stopTyping(prev);
      this.socket.volatile.emit("leaveChat", prev);
    }
    // The unread count at opening places the "N new messages" divider.
    const c = id && this.state.chats.get(id);
    this.store.set({ openId: id, openedUnread: c ? c.unreadCount || 0 : 0, error: "" });
    if (!id) return;
    // Offline, the join is left to resync on the next connect (rooms are
    // per socket), rather than queued.
    this.socket.volatile.emit("joinChat", id);
    this.updateChat(id, (c) => ({ ...c, unreadCount: 0 }));
    if (!this.state.history.has(id)) this.loadOlder(id);
  }

  // back returns from a chat to the list: through the browser's history
  // when the chat was opened from the list, so Back and ← agree.
  back() {
    if (history.state && history.state.chat === this.state.openId) history.back();
    else this.open(null);
  }

  // onUpdated shows a message edited or deleted (a tombstone).
  onUpdated(m) {
    this.applyChanges(m.chatId, [m]);
  }

  // editMessage replaces one of the user's messages' content; the answer
  // shows at once (messageUpdated follows).
  async editMessage(chatId, mid, content) {
    const m = await this.act((api) => api.editMessage(chatId, mid, content));
    if (m) this.addHistory(chatId, [m], {}, true);
    return m !== false;
  }

  // deleteMessage deletes a message for everyone; its tombstone comes
  // with messageUpdated.
  async deleteMessage(chatId, mid) {
    return (await this.act((api) => api.deleteMessage(chatId, mid))) !== false;
  }

  // onMessage shows a new message: from newMessage, or (own) the answer
  // to this client's send.
  onMessage(m, own = false) {
    if (own) this.push.afterSend();
    if (this.state.history.has(m.chatId)) this.addHistory(m.chatId, [m], {}, own);
    // Our own message, back over the socket before the POST answered:
    // shown once, as the real message.
    if (m.senderId === this.user.uid && this.state.pending.has(m.clientMessageId)) this.discard(m.clientMessageId);
    if (!this.state.chats.has(m.chatId)) {
      this.api.chat(m.chatId).then((c) => this.putChat(c), () => {});
      return;
    }
    this.updateChat(m.chatId, (c) => withMessage(c, m));
    if (m.chatId === this.state.openId && m.senderId !== this.user.uid) {
      this.scheduleRead(m.chatId);
      this.store.set({ announce: `${m.sender.username}: ${m.content || m.fileName}` });
    }
  }

  // scheduleRead marks the open chat read as messages arrive, at most
  // every 500 ms, and only while the page is visible.
  scheduleRead(id) {
    if (this.readTimer) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      if (this.state.openId !== id) return;
      if (document.visibilityState !== "visible") {
        document.addEventListener("visibilitychange", () => this.scheduleRead(id), { once: true });
        return;
      }
      this.api.markRead(id).catch(() => {});
    }, 500);
  }

  // putChat records a chat from newChat, chatUpdated or a fetch; its
  // messages (up to 50) feed the history if the chat is loaded, and the
  // list keeps whichever last message is newer.
  putChat(chat) {
    const msgs = chat.messages || [];
    this.store.set((st) => {
      const chats = new Map(st.chats);
      const old = chats.get(chat.id);
      const lines = changeNotes(old, chat);
      let { notes } = st;
      if (lines.length) {
        notes = new Map(notes);
        const at = new Date().toISOString();
        notes.set(chat.id, [...(notes.get(chat.id) || []), ...lines.map((text, i) => ({ id: `${at}-${i}`, at, text }))]);
      }
      let next = { ...chat, messages: msgs.slice(-1) };
      if (old && lastMessage(old)) next = withMessage(next, lastMessage(old));
      chats.set(chat.id, next);
      return { chats, notes };
    });
    if (this.state.history.has(chat.id)) this.addHistory(chat.id, msgs);
  }

  updateChat(id, fn) {
    this.store.set((st) => {
      const c = st.chats.get(id);
      if (!c) return {};
      const chats = new Map(st.chats);
      chats.set(id, fn(c));
      return { chats };
    });
  }

  dropChat(id) {
    this.store.set((st) => {
      const chats = new Map(st.chats);
      chats.delete(id);
      const history = new Map(st.history);
      history.delete(id);
      if (st.openId !== id) return { chats, history };
      // Gone by the user's own hand (left, deleted): no error.
      const error = this.leaving.has(id) ? "" : "That chat was deleted or you were removed from it.";
      return { chats, history, openId: null, error };
    });
    if (this.state.openId === null && location.search.includes("chat=")) history.replaceState(null, "", location.pathname);
    this.leaving.delete(id);
  }

  // refreshChat fetches a chat again (after this user's own change, the
  // events follow too; the answer is usually first).
  async refreshChat(id) {
    try {
      this.putChat(await this.api.chat(id));
    } catch {
      // gone or offline: its events or the next resync tell
    }
  }

  // leave removes the user from a group (or, for its creator, deletes it
  // when del is set); the chat goes from the screen without an error.
  async leave(id, del = false) {
    this.leaving.add(id);
    const ok = (await this.act((api) => (del ? api.deleteChat(id) : api.removeMember(id, this.user.uid)))) !== false;
    if (ok) this.dropChat(id); // chatDeleted follows too
    else this.leaving.delete(id);
    return ok;
  }

  // Typing (typing.js): others' typing seen, this user's told sparingly.
  setTyping(t, on) { this.typing.seen(t, on); }

  keystroke(id) { this.typing.keystroke(id); }

  stopTyping(id) { this.typing.stop(id); }

  // send, retry and discard are the outbox's (outbox.js). A send quotes
  // the message being replied to, if any, and names the mentions given.
  send(chatId, content, file, mentions = []) {
    this.stopTyping(chatId);
    const replyTo = this.state.replying.get(chatId);
    this.setReply(chatId, null);
    return this.outbox.send(chatId, content, file, undefined, { replyToId: replyTo ? replyTo.id : "", mentions });
  }

  // setReply makes the composer's next send a reply to m (null: none).
  setReply(chatId, m) {
    this.store.set((st) => {
      const replying = new Map(st.replying);
      if (m) replying.set(chatId, m);
      else replying.delete(chatId);
      return { replying };
    });
  }

  // react adds or takes back the user's reaction; messageUpdated shows it.
  react(chatId, mid, emoji, on) {
    return this.act((api) => api.react(chatId, mid, emoji, on));
  }

  retry(clientMessageId) { this.outbox.retry(clientMessageId); }

  discard(clientMessageId) { this.outbox.discard(clientMessageId); }

  // act runs a REST action and shows its error sentence if it fails; it
  // answers the action's result, or false when it failed.
  async act(fn) {
    try {
      this.store.set({ error: "" });
      return await fn(this.api);
    } catch (err) {
      this.fail(err);
      return false;
    }
  }
}
