// Composer.jsx: the message box (Enter sends, Shift+Enter is a newline;
// it grows up to six lines) and the attach button. The draft of each chat
// is kept in local storage, so switching chats or reloading keeps it.
// Above it, the message being replied to; typing "@" offers the chat's
// members, and the names left in the text are sent as mentions.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { mentionAt, mentionsIn } from "../model.js";

const MAX_LINES = 6;

export function Composer({ session, chat, replyTo }) {
  const chatId = chat.id;
  const meId = session.user.uid;
  const key = `chatapp:draft:${meId}:${chatId}`;
  const [text, setText] = useState(() => readDraft(key));
  const [caret, setCaret] = useState(0);
  const prefix = mentionAt(text.slice(0, caret));
  const others = (chat.users || []).filter((cu) => cu.userId !== meId);
  const offers = prefix === null ? [] : others.filter((cu) => cu.user.username.toLowerCase().startsWith(prefix.toLowerCase())).slice(0, 6);
  const fileInput = useRef(null);
  const box = useRef(null);
  useEffect(() => box.current && box.current.focus(), [chatId]);
  useLayoutEffect(() => { // grow with the text, up to MAX_LINES
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    const line = parseFloat(getComputedStyle(el).lineHeight) || 20;
    el.style.height = `${Math.min(el.scrollHeight, line * MAX_LINES + 14)}px`;
  }, [text]);

  function change(value) {
    setText(value);
    writeDraft(key, value);
  }

  function submit(file) {
    const content = text.trim();
    if (!content && !file) return;
    session.send(chatId, content, file || null, mentionsIn(content, chat.users || [], meId));
    change("");
  }

  // pick puts "@username " in place of the "@prefix" being typed.
  function pick(cu) {
    const start = caret - prefix.length - 1;
    const next = `${text.slice(0, start)}@${cu.user.username} ${text.slice(caret)}`;
    change(next);
    const at = start + cu.user.username.length + 2;
    setCaret(at);
    requestAnimationFrame(() => { box.current.focus(); box.current.setSelectionRange(at, at); });
  }

  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      {replyTo && (
        <p class="replying">
          <span>Replying to <strong>{replyTo.sender.username}</strong>: {replyTo.content || replyTo.fileName}</span>
          <button type="button" class="link" aria-label="Cancel reply" onClick={() => session.setReply(chatId, null)}>×</button>
        </p>
      )}
      {offers.length > 0 && (
        <ul class="mentions-offer" role="listbox" aria-label="Mention someone">
          {offers.map((cu) => (
            <li key={cu.userId} role="option" aria-selected="false">
              <button type="button" class="link" onMouseDown={(e) => e.preventDefault()} onClick={() => pick(cu)}>@{cu.user.username}</button>
            </li>
          ))}
        </ul>
      )}
      <label class="visually-hidden" for="composer-text">Message</label>
      <textarea id="composer-text" ref={box} rows={1} value={text} maxLength={4000} placeholder="Message"
        onInput={(e) => { change(e.currentTarget.value); setCaret(e.currentTarget.selectionStart); session.keystroke(chatId); }}
        onKeyUp={(e) => setCaret(e.currentTarget.selectionStart)}
        onClick={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={(e) => {
          if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
          e.preventDefault();
          if (offers.length) pick(offers[0]);
          else submit();
        }} />
      <input ref={fileInput} type="file" class="visually-hidden" id="composer-file" tabIndex={-1} aria-hidden="true"
        onChange={(e) => { const f = e.currentTarget.files[0]; e.currentTarget.value = ""; if (f) submit(f); }} />
      <button type="button" onClick={() => fileInput.current.click()}>Attach</button>
      <button type="submit">Send</button>
    </form>
  );
}

function readDraft(key) {
  try {
    return localStorage.getItem(key) || "";
  } catch {
    return "";
  }
}

function writeDraft(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // storage full or denied: the draft lives as long as the page
  }
}
