// Composer.jsx: the message box (Enter sends, Shift+Enter is a newline;
// it grows up to six lines) and the attach button. The draft of each chat
// is kept in local storage, so switching chats or reloading keeps it.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

const MAX_LINES = 6;

export function Composer({ session, chatId }) {
  const key = `chatapp:draft:${session.user.uid}:${chatId}`;
  const [text, setText] = useState(() => readDraft(key));
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
    session.send(chatId, content, file || null);
    change("");
  }

  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <label class="visually-hidden" for="composer-text">Message</label>
      <textarea id="composer-text" ref={box} rows={1} value={text} maxLength={4000} placeholder="Message"
        onInput={(e) => { change(e.currentTarget.value); session.keystroke(chatId); }}
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } }} />
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
