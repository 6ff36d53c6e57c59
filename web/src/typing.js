// typing.js: typing, both ways, for one session. Others' typing is kept in
// the store (with a fallback expiry in case a stopTyping is lost); this
// user's is told sparingly: one `typing` when it starts and one every 3 s
// while it goes on, then `stopTyping` after a pause, a send or leaving.
const TYPING_REPEAT_MS = 3000; // a held `typing` is repeated this often (the server expires it after 8 s)
const TYPING_IDLE_MS = 2500; // no keystroke for this long sends stopTyping
const TYPING_FALLBACK_MS = 10000; // a typist not heard of for this long is dropped (server says 8 s)

// Typing is the typing state of a session (its store and socket).
export class Typing {
  constructor(session) {
    this.s = session;
    this.mine = new Map(); // chatId → {lastSent, idle}: this user typing there
  }

  // seen records another member's typing or stopTyping.
  seen(t, on) {
    this.s.store.set((st) => {
      const typing = new Map(st.typing);
      const who = new Map(typing.get(t.chatId) || []);
      if (on) who.set(t.userId, { username: t.username, until: Date.now() + TYPING_FALLBACK_MS });
      else who.delete(t.userId);
      typing.set(t.chatId, who);
      return { typing };
    });
    if (on) setTimeout(() => this.expire(), TYPING_FALLBACK_MS + 100);
  }

  expire() {
    const now = Date.now();
    this.s.store.set((st) => {
      const typing = new Map();
      for (const [id, who] of st.typing) typing.set(id, new Map([...who].filter(([, t]) => t.until > now)));
      return { typing };
    });
  }

  // keystroke tells the others the user types in chat id.
  keystroke(id) {
    const st = this.mine.get(id) || { lastSent: 0, idle: null };
    const now = Date.now();
    if (now - st.lastSent > TYPING_REPEAT_MS) {
      this.s.socket.volatile.emit("typing", id); // dropped, not queued, while offline
      st.lastSent = now;
    }
    clearTimeout(st.idle);
    st.idle = setTimeout(() => this.stop(id), TYPING_IDLE_MS);
    this.mine.set(id, st);
  }

  // stop tells the others the user stopped typing in chat id.
  stop(id) {
    const st = this.mine.get(id);
    if (!st) return;
    clearTimeout(st.idle);
    this.mine.delete(id);
    this.s.socket.volatile.emit("stopTyping", id);
  }
}
