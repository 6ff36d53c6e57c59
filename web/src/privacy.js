// privacy.js: what a session does about read receipts, mutes and blocks:
// the events that move them (messagesRead, chatMuted) and the user's
// actions. Blocks are kept as a set of uids, loaded at start and after
// each change; what a block hides, the server already hides.
import { applyReadMark } from "./model.js";

export const MUTE_CHOICES = [
  { label: "1 hour", ms: 3600_000 },
  { label: "8 hours", ms: 8 * 3600_000 },
  { label: "Until I turn it back on", ms: Infinity },
];

// Privacy is the receipts, mutes and blocks of a session.
export class Privacy {
  constructor(session) {
    this.s = session;
  }

  wire(socket) {
    socket.on("messagesRead", (mark) => this.s.store.set((st) => ({ chats: applyReadMark(st.chats, mark) })));
    socket.on("chatMuted", (m) => this.s.updateChat(m.chatId, (c) => ({ ...c, mutedUntil: m.mutedUntil })));
  }

  async loadBlocks() {
    try {
      const res = await this.s.api.blocks();
      this.s.store.set({ blocked: new Set(res.users.map((u) => u.id)) });
    } catch {
      // offline: the next start or change loads them
    }
  }

  // mute silences push for the chat for ms (Infinity: until unmuted; 0
  // unmutes); chatMuted brings it to every device, this one included.
  async mute(chatId, ms) {
    const until = ms === 0 ? null : ms === Infinity ? "9999-12-31T23:59:59.999Z" : new Date(Date.now() + ms).toISOString();
    const ok = (await this.s.act((api) => api.mute(chatId, until))) !== false;
    if (ok) this.s.updateChat(chatId, (c) => ({ ...c, mutedUntil: until }));
    return ok;
  }

  // block or unblock a user; chats showing them are fetched again (their
  // presence and read markers show or hide).
  async block(uid, on) {
    const ok = (await this.s.act((api) => api.block(uid, on))) !== false;
    if (!ok) return false;
    await this.loadBlocks();
    for (const c of this.s.state.chats.values()) {
      if (c.users.some((cu) => cu.userId === uid)) this.s.refreshChat(c.id);
    }
    return true;
  }

  // setReceipts turns the user's read receipts on or off.
  async setReceipts(on) {
    const me = await this.s.act((api) => api.updateMe({ readReceipts: on }));
    if (me) this.s.store.set({ me });
  }
}
