// ChatView.jsx: one open chat: history with paging, live messages, typing
// line, the composer (Enter sends, Shift+Enter is a newline) with
// attachments, and the group panel.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { chatTitle, otherMember, typingLine } from "../model.js";
import { Attachment } from "./Attachment.jsx";
import { GroupPanel } from "./GroupPanel.jsx";
import { PresenceDot } from "./PresenceDot.jsx";

export function ChatView({ session, chat, st }) {
  const meId = session.user.uid;
  const h = st.history.get(chat.id) || { items: [], hasOlder: true, loading: true };
  const pending = [...st.pending.values()].filter((p) => p.chatId === chat.id);
  const typers = st.typing.get(chat.id) || new Map();
  const other = chat.isGroup ? null : otherMember(chat, meId);
  const [panel, setPanel] = useState(false);
  const list = useRef(null);
  const stick = useRef(true); // at the bottom: follow new messages

  useLayoutEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [h.items.length, pending.length]);

  return (
    <main class="chat" aria-label={`Chat with ${chatTitle(chat, meId)}`}>
      <header>
        <button type="button" class="back link" onClick={() => session.open(null)} aria-label="Back to chats">←</button>
        {other && <PresenceDot user={other} />}
        <h2>{chatTitle(chat, meId)}</h2>
        {chat.isGroup && <button type="button" onClick={() => setPanel(!panel)} aria-expanded={panel}>Members</button>}
      </header>
      {panel && <GroupPanel session={session} chat={chat} />}
      <ol class="messages" ref={list} aria-live="polite" aria-label="Messages"
        onScroll={(e) => { const el = e.currentTarget; stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40; }}>
        {h.hasOlder && (
          <li class="older">
            <button type="button" class="link" disabled={h.loading} onClick={() => session.loadOlder(chat.id)}>
              {h.loading ? "Loading…" : "Load older messages"}
            </button>
          </li>
        )}
        {h.items.map((m) => (
          <li key={m.id} class={`msg ${m.senderId === meId ? "mine" : ""}`} data-message-id={m.id}>
            {chat.isGroup && m.senderId !== meId && <span class="sender">{m.sender.username}</span>}
            {m.content && <p class="content">{m.content}</p>}
            {m.fileUrl && <Attachment api={session.api} url={m.fileUrl} name={m.fileName} />}
            <time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</time>
          </li>
        ))}
        {pending.map((p) => (
          <li key={p.clientMessageId} class="msg mine pending" aria-busy={!p.error}>
            {p.content && <p class="content">{p.content}</p>}
            {p.fileName && (
              <p class="file">
                {p.fileName} <progress max="1" value={p.progress} aria-label={`Uploading ${p.fileName}`} />
              </p>
            )}
            {p.error ? (
              <p role="alert" class="error">
                {p.error} <button type="button" class="link" onClick={() => session.retry(p.clientMessageId)}>Retry</button>
                <button type="button" class="link" onClick={() => session.discard(p.clientMessageId)}>Discard</button>
              </p>
            ) : <span class="sending">sending…</span>}
          </li>
        ))}
      </ol>
      <p class="typing" aria-live="polite">{typingLine(typers)}</p>
      <Composer session={session} chatId={chat.id} />
    </main>
  );
}

function Composer({ session, chatId }) {
  const [text, setText] = useState("");
  const fileInput = useRef(null);
  const box = useRef(null);
  useEffect(() => box.current && box.current.focus(), [chatId]);

  function submit(file) {
    const content = text.trim();
    if (!content && !file) return;
    session.send(chatId, content, file || null);
    setText("");
  }

  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <label class="visually-hidden" for="composer-text">Message</label>
      <textarea id="composer-text" ref={box} rows={1} value={text} maxLength={4000} placeholder="Message"
        onInput={(e) => { setText(e.currentTarget.value); session.keystroke(chatId); }}
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } }} />
      <input ref={fileInput} type="file" class="visually-hidden" id="composer-file" tabIndex={-1} aria-hidden="true"
        onChange={(e) => { const f = e.currentTarget.files[0]; e.currentTarget.value = ""; if (f) submit(f); }} />
      <button type="button" onClick={() => fileInput.current.click()}>Attach</button>
      <button type="submit">Send</button>
    </form>
  );
}
