// Message.jsx: one message of the open chat, with what its reader may do
// to it: anyone replies (quoting it) and reacts; its sender edits it
// (Enter saves, Esc cancels) and deletes it, a group's creator deletes
// anyone's — after a confirmation, since a deletion is for everyone. An
// edited message says so; a deleted one is a tombstone in its place. A
// reply shows its quote (a click goes to the original when loaded), and
// the members it mentions are marked.
import { useState } from "preact/hooks";
import { Attachment } from "./Attachment.jsx";
import { Content } from "./Content.jsx";
import { Confirm } from "./Modal.jsx";

const QUICK = ["👍", "❤️", "😂", "😮", "😢", "🎉"];

export function Message({ session, chat, m, meId, run }) {
  const [editing, setEditing] = useState(false);
  const [asking, setAsking] = useState(false);
  const [picking, setPicking] = useState(false);
  const names = (m.mentions || []).map((uid) => (chat.users || []).find((cu) => cu.userId === uid)).filter(Boolean).map((cu) => cu.user.username);
  const mine = m.senderId === meId;
  const deleted = !!m.deletedAt;
  const canDelete = !deleted && (mine || (chat.isGroup && chat.creatorId === meId));
  const time = new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <li class={`msg ${mine ? "mine" : ""} ${run ? "run" : ""} ${deleted ? "deleted" : ""}`} data-message-id={m.id}>
      {chat.isGroup && !mine && !run && <span class="sender">{m.sender.username}</span>}
      {deleted && <p class="tombstone">Message deleted</p>}
      {!deleted && m.replyTo && <Quote q={m.replyTo} />}
      {!deleted && editing && <EditBox session={session} chatId={chat.id} m={m} onDone={() => setEditing(false)} />}
      {!deleted && !editing && m.content && <p class="content"><Content text={m.content} names={names} /></p>}
      {!deleted && m.fileUrl && <Attachment api={session.api} url={m.fileUrl} name={m.fileName} />}
      <p class="meta">
        <time dateTime={m.createdAt} class={run ? "visually-hidden" : ""}>{time}</time>
        {m.editedAt && !deleted && <span class="edited"> · edited</span>}
        {!editing && !deleted && (
          <span class="actions">
            <button type="button" class="link" aria-label="Reply to message" onClick={() => session.setReply(chat.id, m)}>Reply</button>
            <button type="button" class="link" aria-label="React to message" aria-expanded={picking} onClick={() => setPicking(!picking)}>React</button>
            {mine && <button type="button" class="link" aria-label="Edit message" onClick={() => setEditing(true)}>Edit</button>}
            {canDelete && <button type="button" class="link" aria-label="Delete message" onClick={() => setAsking(true)}>Delete</button>}
          </span>
        )}
      </p>
      {picking && <Picker onPick={(e) => { setPicking(false); session.react(chat.id, m.id, e, true); }} />}
      {!deleted && m.reactions && m.reactions.length > 0 && (
        <p class="reactions">
          {m.reactions.map((r) => (
            <button key={r.emoji} type="button" class={`chip ${r.me ? "me" : ""}`} aria-pressed={r.me ? "true" : "false"}
              aria-label={`${r.emoji} ${r.count}`} title={r.me ? "You reacted: click to take it back" : "React too"}
              onClick={() => session.react(chat.id, m.id, r.emoji, !r.me)}>
              {r.emoji} {r.count}
            </button>
          ))}
        </p>
      )}
      {asking && (
        <Confirm title="Delete this message?" body="It is deleted for everyone in the chat." action="Delete"
          onClose={() => setAsking(false)}
          onConfirm={() => { setAsking(false); session.deleteMessage(chat.id, m.id); }} />
      )}
    </li>
  );
}

// Quote is the message a reply quotes, as the server last told; a click
// shows the original if it is loaded.
function Quote({ q }) {
  function go() {
    const el = document.querySelector(`[data-message-id="${q.id}"]`);
    if (!el) return;
    el.scrollIntoView({ block: "center" });
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 1200);
  }
  return (
    <button type="button" class="quote" onClick={go}>
      {/* The name read out holds the visible text (WCAG 2.5.3, label in name). */}
      <span class="visually-hidden">Quoted message from </span><strong>{q.username}</strong>{" "}
      {q.deleted ? <em>Message deleted</em> : q.content || (q.fileName && `📎 ${q.fileName}`)}
    </button>
  );
}

// Picker offers a few common emoji and takes any other typed in.
function Picker({ onPick }) {
  const [other, setOther] = useState("");
  return (
    <form class="picker" onSubmit={(e) => { e.preventDefault(); if (other.trim()) onPick(other.trim()); }}>
      {QUICK.map((e) => <button key={e} type="button" class="link" aria-label={`React with ${e}`} onClick={() => onPick(e)}>{e}</button>)}
      <input aria-label="Any emoji" size={4} value={other} onInput={(e) => setOther(e.currentTarget.value)} />
      <button type="submit">Add</button>
    </form>
  );
}

// EditBox is the message's text being edited in place.
function EditBox({ session, chatId, m, onDone }) {
  const [text, setText] = useState(m.content);
  const [busy, setBusy] = useState(false);
  async function save(e) {
    e.preventDefault();
    if (busy) return;
    if (text === m.content) return onDone();
    setBusy(true);
    const ok = await session.editMessage(chatId, m.id, text);
    setBusy(false);
    if (ok) onDone();
  }
  return (
    <form class="edit" onSubmit={save}>
      <textarea aria-label="Edit message" value={text} rows={Math.min(6, text.split("\n").length + 1)} autoFocus
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) save(e);
          else if (e.key === "Escape") onDone();
        }} />
      <div class="row end">
        <button type="button" class="link" onClick={onDone}>Cancel</button>
        <button type="submit" disabled={busy || (!text.trim() && !m.fileUrl)}>Save</button>
      </div>
    </form>
  );
}
