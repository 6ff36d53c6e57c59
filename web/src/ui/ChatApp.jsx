// ChatApp.jsx: the signed-in screen: chat list beside the open chat (one
// at a time below 700 px wide), the new-chat and profile dialogs, errors,
// and one polite live region that announces arrivals in the open chat.
import { useEffect, useState } from "preact/hooks";
import { signOut } from "firebase/auth";
import { useStore } from "../store.js";
import { chatTitle, isMuted, lastMessage, otherMember, sortChats, unreadTitle } from "../model.js";
import { ChatView } from "./ChatView.jsx";
import { NewChat } from "./NewChat.jsx";
import { PresenceDot } from "./PresenceDot.jsx";
import { Profile } from "./Profile.jsx";

export function ChatApp({ session, auth }) {
  const st = useStore(session.store);
  const [dialog, setDialog] = useState(""); // "new", "profile" or ""
  const meId = session.user.uid;
  const chats = sortChats([...st.chats.values()]);
  const open = st.openId ? st.chats.get(st.openId) : null;
  // leave unregisters the browser's push device, then signs out.
  const leave = () => session.push.stop().finally(() => signOut(auth));
  useEffect(() => { document.title = unreadTitle(chats); });

  return (
    <div class={`app ${open ? "has-open" : ""}`}>
      <h1 class="visually-hidden">ChatApp</h1>
      <p class={`banner ${st.connected ? "hidden" : ""}`} role="status">
        {st.connected ? "" : "Reconnecting… messages will catch up."}
      </p>
      <p class="visually-hidden" aria-live="polite">{st.announce}</p>
      <aside class="list" aria-label="Chats">
        <header>
          <button type="button" class="me link" onClick={() => setDialog("profile")} aria-label={`Profile: ${st.me ? st.me.username : ""}`}>
            <strong>{st.me ? st.me.username : "…"}</strong>
          </button>
          <span class={`conn ${st.connected ? "on" : ""}`} aria-hidden="true">
            {st.connected ? "connected" : "offline"}
          </span>
          <button type="button" onClick={() => setDialog("new")}>New chat</button>
          <button type="button" class="link" onClick={leave}>Sign out</button>
        </header>
        {st.error && (
          <p role="alert" class="error">
            {st.error} <button type="button" class="link" onClick={() => session.store.set({ error: "" })}>Dismiss</button>
          </p>
        )}
        {!st.loaded ? <Skeleton /> : (
          <ul>
            {chats.map((c) => {
              const last = lastMessage(c);
              const other = c.isGroup ? null : otherMember(c, meId);
              return (
                <li key={c.id}>
                  <button type="button" class={`chat-item ${c.id === st.openId ? "active" : ""}`} onClick={() => session.open(c.id)}
                    data-chat-id={c.id} aria-current={c.id === st.openId ? "true" : undefined}>
                    {other ? <PresenceDot user={other} known={st.connected} /> : <span class="dot group" aria-hidden="true">#</span>}
                    <span class="title">{chatTitle(c, meId)}{isMuted(c) && <span class="muted" aria-label="muted"> 🔕</span>}</span>
                    {c.unreadCount > 0 && c.id !== st.openId && <span class="badge" aria-label={`${c.unreadCount} unread`}>{c.unreadCount}</span>}
                    <span class="preview">{!last ? "No messages yet" : last.deletedAt ? "Message deleted" : last.content || `File: ${last.fileName}`}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
        {st.loaded && chats.length === 0 && <p class="hint">No chats yet: start one with “New chat”.</p>}
      </aside>
      {open ? <ChatView key={open.id} session={session} chat={open} st={st} /> : <main class="empty"><p>Pick a chat.</p></main>}
      {dialog === "new" && <NewChat session={session} onClose={() => setDialog("")} />}
      {dialog === "profile" && <Profile session={session} onClose={() => setDialog("")} onSignOut={leave} />}
    </div>
  );
}

// Skeleton stands for the chat list until it first arrives.
function Skeleton() {
  return (
    <ul class="skeleton" aria-busy="true" aria-label="Loading chats">
      {[0, 1, 2].map((i) => <li key={i}><span /><span /></li>)}
    </ul>
  );
}
