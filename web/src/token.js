// token.js: the ID token a session's socket holds, kept fresh. The token
// is renewed 5 minutes before it expires — the Auth SDK alone refreshes
// only when asked for an expired one (its proactive refresh is for other
// Firebase SDKs), and a socket holding the old token would be cut at its
// expiry — and a renewed token, whoever renewed it, is taken at once: the
// socket reconnects with it.
import { onIdTokenChanged } from "firebase/auth";
import { renewIn } from "./model.js";

const REFRESH_AHEAD_MS = 5 * 60_000; // renew the ID token this long before it expires

// Tokens keeps a session's socket on a fresh ID token.
export class Tokens {
  constructor(auth, user, socket) {
    this.user = user;
    this.socket = socket;
    this.inUse = null; // the token the socket last authenticated with
    this.timer = null;
    this.unwatch = onIdTokenChanged(auth, async (u) => {
      if (!u || !socket.connected) return;
      const token = await u.getIdToken();
      if (this.inUse && token !== this.inUse) socket.disconnect().connect();
    });
  }

  // forSocket answers the socket's auth callback with the current token
  // (getIdToken refreshes it when it is about to expire).
  forSocket(cb) {
    this.user.getIdToken().then((token) => { this.inUse = token; cb({ token }); }, () => cb({}));
  }

  // refresh renews the token shortly before it expires, then again;
  // fresh tells that the token was just renewed (renewIn).
  async refresh(fresh = false) {
    clearTimeout(this.timer);
    let due = 60_000;
    try {
      due = renewIn(await this.user.getIdTokenResult(), Date.now(), fresh, REFRESH_AHEAD_MS);
    } catch {
      // offline: try again in a minute
    }
    this.timer = setTimeout(() => {
      this.user.getIdToken(true).then(() => this.refresh(true), () => this.refresh());
    }, due);
  }

  stop() {
    clearTimeout(this.timer);
    this.unwatch();
  }
}
