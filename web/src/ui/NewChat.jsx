// NewChat.jsx: start a direct chat with one person, or a named group, in
// a modal dialog (focus inside, Esc closes).
import { useState } from "preact/hooks";
import { UserSearch } from "./UserSearch.jsx";
import { Modal } from "./Modal.jsx";

export function NewChat({ session, onClose }) {
  const [picked, setPicked] = useState([]);
  const [group, setGroup] = useState(false);
  const [name, setName] = useState("");

  async function create(e) {
    e.preventDefault();
    const isGroup = group || picked.length > 1;
    const chat = await session.act((api) => api.createChat(picked.map((u) => u.id), isGroup, isGroup ? name.trim() : ""));
    if (chat) {
      session.putChat(chat);
      session.open(chat.id);
      onClose();
    }
  }

  return (
    <Modal label="New chat" onClose={onClose}>
      <form onSubmit={create}>
        <h2>New chat</h2>
        <UserSearch session={session} exclude={picked.map((u) => u.id)} onPick={(u) => setPicked([...picked, u])} autoFocus />
        <ul class="picked" aria-label="Chosen people">
          {picked.map((u) => (
            <li key={u.id}>
              {u.username}{" "}
              <button type="button" class="link" aria-label={`Remove ${u.username}`} onClick={() => setPicked(picked.filter((x) => x.id !== u.id))}>×</button>
            </li>
          ))}
        </ul>
        <label class="row">
          <input type="checkbox" checked={group || picked.length > 1} disabled={picked.length > 1} onChange={(e) => setGroup(e.currentTarget.checked)} />
          Group
        </label>
        {(group || picked.length > 1) && (
          <label>
            Group name
            <input value={name} maxLength={64} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
        )}
        {session.state.error && <p role="alert" class="error">{session.state.error}</p>}
        <div class="row">
          <button type="submit" disabled={picked.length === 0}>Start chat</button>
          <button type="button" class="link" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}
