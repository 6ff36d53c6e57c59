// outbox.js: the messages this user is sending. Each is on screen as
// pending (the store's `pending`) until the server has it; sends of a
// chat go one at a time, in order (ten quick ones must not land shuffled);
// a failure that may pass (no connection, 429, 5xx) keeps a Retry, and one
// for want of a connection is sent again when the socket reconnects;
// unsent text messages survive a reload in local storage, per user. Every
// attempt carries the same clientMessageId, so nothing is sent twice.
import { fileError, retryable } from "./model.js";

// Outbox sends for one session (its store, api and onMessage).
export class Outbox {
  constructor(session) {
    this.s = session;
    this.chains = new Map(); // chatId → the promise of its last send
    this.key = `chatapp:outbox:${session.user.uid}`;
  }

  // send posts a message and keeps it on screen as pending until the
  // server has it; a failed one stays with its error and, if it may
  // succeed later, can be retried with the same clientMessageId. Sends of
  // a chat go one at a time, in order.
  // extra carries what the message names: {replyToId, mentions}.
  send(chatId, content, file, clientMessageId = crypto.randomUUID(), extra = {}) {
    this.set(clientMessageId, { chatId, content, file, extra, fileName: file ? file.name : "", progress: 0, error: "", clientMessageId });
    const tooLarge = fileError(file);
    if (tooLarge) {
      this.set(clientMessageId, { error: tooLarge, retryable: false });
      return Promise.resolve();
    }
    const prev = this.chains.get(chatId) || Promise.resolve();
    const next = prev.then(() => this.sendNow(chatId, content, file, clientMessageId, extra));
    this.chains.set(chatId, next);
    return next;
  }

  async sendNow(chatId, content, file, clientMessageId, extra = {}) {
    try {
      const m = await this.s.api.send(chatId, { content, file, clientMessageId, ...extra }, { onProgress: (p) => this.set(clientMessageId, { progress: p }) });
      this.s.onMessage(m, true); // the newMessage event may come later (or not, if the socket is down)
      this.set(clientMessageId, null);
    } catch (err) {
      this.set(clientMessageId, { error: err.message, retryable: retryable(err.status), offline: err.status === 0 });
    }
  }

  set(clientMessageId, patch) {
    this.s.store.set((st) => {
      const pending = new Map(st.pending);
      if (patch === null) pending.delete(clientMessageId);
      else if (pending.has(clientMessageId) || patch.chatId) pending.set(clientMessageId, { ...(pending.get(clientMessageId) || {}), ...patch });
      return { pending };
    });
    this.save();
  }

  retry(clientMessageId) {
    const p = this.s.state.pending.get(clientMessageId);
    if (p) this.send(p.chatId, p.content, p.file, clientMessageId, p.extra || {});
  }

  discard(clientMessageId) {
    this.set(clientMessageId, null);
  }

  // resendOffline sends again, in order, what failed for want of a
  // connection (also what a reload restored).
  resendOffline() {
    for (const p of this.s.state.pending.values()) {
      if (p.error && p.offline) this.retry(p.clientMessageId);
    }
  }

  // save keeps the unsent text messages in local storage (files cannot be
  // kept there): a reload restores them as not sent.
  save() {
    const keep = [...this.s.state.pending.values()].filter((p) => !p.file)
      .map(({ chatId, content, clientMessageId, extra }) => ({ chatId, content, clientMessageId, extra }));
    try {
      if (keep.length) localStorage.setItem(this.key, JSON.stringify(keep));
      else localStorage.removeItem(this.key);
    } catch {
      // storage full or denied: the outbox lives as long as the page
    }
  }

  // restore puts back what a previous page left unsent, as failed for want
  // of a connection: the next connect sends it. Entries that are not what
  // save writes are skipped.
  restore() {
    let kept = [];
    try {
      kept = JSON.parse(localStorage.getItem(this.key) || "[]");
    } catch {
      // unreadable: nothing to restore
    }
    for (const p of Array.isArray(kept) ? kept : []) {
      if (typeof p.chatId !== "string" || typeof p.content !== "string" || typeof p.clientMessageId !== "string") continue;
      const extra = p.extra && typeof p.extra === "object" ? p.extra : {};
      this.set(p.clientMessageId, { ...p, extra, file: null, fileName: "", progress: 0, error: "Not sent yet.", retryable: true, offline: true });
    }
  }
}
