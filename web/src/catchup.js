// catchup.js: what a loaded chat missed while the socket was down. Events
// sent meanwhile are gone, so each loaded chat asks for the messages after
// the newest it held when the socket went down (`?after=`), then for the
// changes after the greatest rev it had received (`?changedAfter=`): edits,
// deletions and reactions of messages it already shows.
import { maxRev } from "./model.js";

// Gaps keeps, per chat, where its catch-up starts, for one session.
export class Gaps {
  constructor(session) {
    this.s = session;
    this.from = new Map(); // chatId → newest message id held when the socket went down
    // chatId → the greatest rev received in events and pages (never from
    // this client's own sends and edits: changes before those may still
    // be on their way), and that rev when the socket went down.
    this.revs = new Map();
    this.fromRev = new Map();
  }

  // mark remembers, for each loaded chat, the newest message and rev held
  // when the socket went down: the catch-up starts there. (Not from the
  // newest held at reconnect: a send answered meanwhile is newer than
  // what others sent during the gap.)
  mark() {
    for (const [id, h] of this.s.state.history) {
      const last = h.items[h.items.length - 1];
      if (last && !this.from.has(id)) this.from.set(id, last.id);
      if (this.revs.has(id) && !this.fromRev.has(id)) this.fromRev.set(id, this.revs.get(id));
    }
  }

  // note records the revs of messages received from the server.
  note(id, messages) {
    let rev = this.revs.get(id) || "";
    for (const m of messages) rev = maxRev(rev, m.rev);
    if (rev) this.revs.set(id, rev);
  }

  // catchUp fetches what a loaded chat missed, oldest first, then the
  // changes since.
  async catchUp(id) {
    const s = this.s;
    const h = s.state.history.get(id);
    const last = h && h.items[h.items.length - 1];
    if (!last) return s.loadOlder(id);
    const since = this.fromRev.get(id) || this.revs.get(id);
    let after = this.from.get(id) || last.id;
    while (after) {
      const res = await s.api.messagesAfter(id, after);
      s.addHistory(id, res.messages);
      after = res.nextAfter;
    }
    this.from.delete(id);
    let rev = since;
    while (rev) {
      const res = await s.api.messagesChangedAfter(id, rev);
      s.applyChanges(id, res.messages);
      rev = res.nextChangedAfter;
    }
    this.fromRev.delete(id);
  }
}
