// Message.jsx: one message of the open chat, with what its reader may do
// to it: its sender edits it (Enter saves, Esc cancels) and deletes it,
// a group's creator deletes anyone's — after a confirmation, since a
// deletion is for everyone. An edited message says so; a deleted one is a
// tombstone in its place.
import { useState } from "preact/hooks";
import { Attachment } from "./Attachment.jsx";
import { Content } from "./Content.jsx";
import { Confirm } from "./Modal.jsx";

export function Message({ session, chat, m, meId, run }) {
  const [editing, setEditing] = useState(false);
  const [asking, setAsking] = useState(false);
  const mine = m.senderId === meId;
  const deleted = !!m.deletedAt;
  const canDelete = !deleted && (mine || (chat.isGroup && chat.creatorId === meId));
  const time = new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <li class={`msg ${mine ? "mine" : ""} ${run ? "run" : ""} ${deleted ? "deleted" : ""}`} data-message-id={m.id}>
      {chat.isGroup && !mine && !run && <span class="sender">{m.sender.username}</span>}
      {deleted && <p class="tombstone">Message deleted</p>}
      {!deleted && editing && <EditBox session={session} chatId={chat.id} m={m} onDone={() => setEditing(false)} />}
      {!deleted && !editing && m.content && <p class="content"><Content text={m.content} /></p>}
      {!deleted && m.fileUrl && <Attachment api={session.api} url={m.fileUrl} name={m.fileName} />}
      <p class="meta">
        <time dateTime={m.createdAt} class={run ? "visually-hidden" : ""}>{time}</time>
        {m.editedAt && !deleted && <span class="edited"> · edited</span>}
        {!editing && (mine && !deleted || canDelete) && (
          <span class="actions">
            {mine && !deleted && <button type="button" class="link" aria-label="Edit message" onClick={() => setEditing(true)}>Edit</button>}
            {canDelete && <button type="button" class="link" aria-label="Delete message" onClick={() => setAsking(true)}>Delete</button>}
          </span>
        )}
      </p>
      {asking && (
        <Confirm title="Delete this message?" body="It is deleted for everyone in the chat." action="Delete"
          onClose={() => setAsking(false)}
          onConfirm={() => { setAsking(false); session.deleteMessage(chat.id, m.id); }} />
      )}
    </li>
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
