// ChatView.jsx: one open chat: history with paging, live messages, typing
// line, the composer (Enter sends, Shift+Enter is a newline) with
// attachments, and the group panel. Reading aids: day separators, a
// sender's run shown with one name and time, an "N new messages" divider
// where the unread ones begin, and "Jump to latest" while scrolled up.
// Each message (Message.jsx) carries its own edit and delete.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { chatTitle, dayLabel, dayOf, grouped, muteLabel, otherMember, seenBy, typingLine } from "../model.js";
import { ChatMenu } from "./ChatMenu.jsx";
import { GroupPanel } from "./GroupPanel.jsx";
import { Message } from "./Message.jsx";
import { PresenceDot, presenceLine } from "./PresenceDot.jsx";
import { Composer } from "./Composer.jsx";

const NEAR_BOTTOM_PX = 40;

export function ChatView({ session, chat, st }) {
  const meId = session.user.uid;
  const h = st.history.get(chat.id) || { items: [], hasOlder: true, loading: true };
  const pending = [...st.pending.values()].filter((p) => p.chatId === chat.id);
  const failed = pending.filter((p) => p.error).length;
  const typers = st.typing.get(chat.id) || new Map();
  const other = chat.isGroup ? null : otherMember(chat, meId);
  const [panel, setPanel] = useState(false);
  const [menu, setMenu] = useState(false);
  const blocked = !!other && st.blocked.has(other.id);
  const seenLine = seenBy(chat, h.items, meId);
  const [newBelow, setNewBelow] = useState(0);
  const [unreadAtOpen] = useState(st.openedUnread);
  const list = useRef(null);
  const stick = useRef(true); // at the bottom: follow new messages
  const lastTop = useRef(0); // scrollTop as onScroll last saw it
  const seen = useRef(h.items.length); // messages laid out so far
  const older = useRef(null); // {firstId, fromBottom} while older ones load
  const divider = useRef(undefined); // id of the first unread message (null: none)
  const firstId = h.items.length ? h.items[0].id : null;
  const notes = placeNotes(st.notes.get(chat.id) || [], h.items);
  if (divider.current === undefined && h.items.length > 0) {
    divider.current = unreadAtOpen > 0 ? h.items[Math.max(h.items.length - unreadAtOpen, 0)].id : null;
  }

  const toBottom = () => {
    const el = list.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    lastTop.current = el.scrollTop;
  };

  // An image that loads keeps the view at the bottom if it was there. A
  // scroll whose event has not run yet (the reader, or a script, moved
  // meanwhile) is judged from where the view is now, not from stick.
  function onImageLoad() {
    const el = list.current;
    if (el && el.scrollTop !== lastTop.current) {
      stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    }
    if (stick.current) toBottom();
  }

  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    const added = h.items.length - seen.current;
    const first = seen.current === 0 && h.items.length > 0;
    seen.current = h.items.length;
    if (older.current && firstId !== older.current.firstId) {
      // Older messages went in above: keep the reading position.
      el.scrollTop = el.scrollHeight - older.current.fromBottom;
      older.current = null;
      return;
    }
    const mark = first && divider.current ? el.querySelector(".unread-divider") : null;
    if (mark) {
      mark.scrollIntoView({ block: "start" });
      stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    } else if (stick.current) {
      toBottom();
    } else if (added > 0) {
      setNewBelow((n) => n + added);
    }
  }, [h.items.length, pending.length, firstId]);

  // A send that failed is shown, wherever the reader was.
  useEffect(() => {
    if (failed === 0 || !list.current) return;
    const errs = list.current.querySelectorAll(".pending .error");
    if (errs.length) errs[errs.length - 1].scrollIntoView({ block: "nearest" });
  }, [failed]);

  function loadOlder() {
    const el = list.current;
    older.current = { firstId, fromBottom: el.scrollHeight - el.scrollTop };
    session.loadOlder(chat.id);
  }

  function onScroll(e) {
    const el = e.currentTarget;
    lastTop.current = el.scrollTop;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (stick.current && newBelow) setNewBelow(0);
  }

  return (
    <main class="chat" aria-label={`Chat with ${chatTitle(chat, meId)}`}>
      <header>
        <button type="button" class="back link" onClick={() => session.back()} aria-label="Back to chats">←</button>
        {other && <PresenceDot user={other} known={st.connected} />}
        <div class="title">
          <h2>{chatTitle(chat, meId)}</h2>
          {other && <p class="status">{st.connected ? presenceLine(other) : "status unknown while offline"}</p>}
          {chat.isGroup && <p class="status">{chat.users.length} members</p>}
          {muteLabel(chat) && <p class="status muted">🔕 {muteLabel(chat)}</p>}
        </div>
        {chat.isGroup && <button type="button" onClick={() => setPanel(!panel)} aria-expanded={panel}>Members</button>}
        <button type="button" onClick={() => setMenu(!menu)} aria-expanded={menu} aria-label="Chat options">⋯</button>
      </header>
      {panel && <GroupPanel session={session} chat={chat} onClose={() => setPanel(false)} />}
      {menu && <ChatMenu session={session} chat={chat} other={other} blocked={blocked} onClose={() => setMenu(false)} />}
      <ol class="messages" ref={list} aria-label="Messages" onScroll={onScroll}
        onLoadCapture={onImageLoad}>
        {h.hasOlder && (
          <li class="older">
            <button type="button" class="link" disabled={h.loading} onClick={loadOlder}>
              {h.loading ? "Loading…" : "Load older messages"}
            </button>
          </li>
        )}
        {h.items.map((m, i) => {
          const prev = h.items[i - 1];
          const newDay = !prev || dayOf(prev.createdAt) !== dayOf(m.createdAt);
          const run = !newDay && m.id !== divider.current && grouped(prev, m);
          return [
            ...(notes.before.get(m.id) || []).map(note),
            newDay && <li key={`day-${m.id}`} class="day"><span>{dayLabel(m.createdAt)}</span></li>,
            m.id === divider.current && (
              <li key="unread" class="unread-divider"><span>{unreadAtOpen === 1 ? "1 new message" : `${unreadAtOpen} new messages`}</span></li>
            ),
            <Message key={m.id} session={session} chat={chat} m={m} meId={meId} run={run} />,
            seenLine && seenLine.id === m.id && <li key="seen" class="seen">{seenLine.text}</li>,
          ];
        })}
        {notes.trailing.map(note)}
        {pending.map((p) => (
          <li key={p.clientMessageId} class={`msg mine pending ${p.error ? "failed" : ""}`} aria-busy={!p.error}>
            {p.content && <p class="content">{p.content}</p>}
            {p.fileName && (
              <p class="file">
                {p.fileName} {!p.error && <progress max="1" value={p.progress} aria-label={`Uploading ${p.fileName}`} />}
              </p>
            )}
            {p.error ? (
              <p role="alert" class="error">
                {p.error}{" "}
                {p.retryable !== false && <button type="button" class="link" onClick={() => session.retry(p.clientMessageId)}>Retry</button>}
                <button type="button" class="link" onClick={() => session.discard(p.clientMessageId)}>Discard</button>
              </p>
            ) : <span class="sending">sending…</span>}
          </li>
        ))}
      </ol>
      {newBelow > 0 && (
        <button type="button" class="jump" onClick={() => { toBottom(); setNewBelow(0); stick.current = true; }}>
          {newBelow === 1 ? "1 new message" : `${newBelow} new messages`} · Jump to latest ↓
        </button>
      )}
      <p class="typing" aria-live="polite">{typingLine(typers)}</p>
      {blocked && (
        <p class="blocked" role="note">
          You blocked {other.username}: neither of you can send messages here.{" "}
          <button type="button" class="link" onClick={() => session.privacy.block(other.id, false)}>Unblock</button>
        </p>
      )}
      <Composer session={session} chat={chat} replyTo={st.replying.get(chat.id)} />
    </main>
  );
}

// placeNotes puts each group-change line before the first message newer
// than it (before), or after all of them (trailing).
function placeNotes(notes, items) {
  const before = new Map();
  const trailing = [];
  for (const n of notes) {
    const m = items.find((x) => x.createdAt > n.at);
    if (!m) trailing.push(n);
    else before.set(m.id, [...(before.get(m.id) || []), n]);
  }
  return { before, trailing };
}

const note = (n) => <li key={n.id} class="note">{n.text}</li>;
