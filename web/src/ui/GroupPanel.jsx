// GroupPanel.jsx: a group's name and members: rename, add, remove (the
// creator removes anyone, anyone removes themself), leave, and delete for
// the creator — each destructive action confirmed first. The server
// enforces all of it; the panel only hides what would be refused. Results
// arrive as chatUpdated / chatInfo / chatDeleted events. Esc closes it.
import { useState } from "preact/hooks";
import { UserSearch } from "./UserSearch.jsx";
import { PresenceDot } from "./PresenceDot.jsx";
import { Confirm } from "./Modal.jsx";

export function GroupPanel({ session, chat, onClose }) {
  const meId = session.user.uid;
  const [name, setName] = useState(chat.name);
  const [ask, setAsk] = useState(null); // the confirmation shown
  const creator = chat.creatorId === meId;

  async function rename(e) {
    e.preventDefault();
    const c = await session.act((api) => api.renameChat(chat.id, name.trim()));
    if (c) session.putChat(c);
  }
  async function add(u) {
    const c = await session.act((api) => api.addMembers(chat.id, [u.id]));
    if (c) session.putChat(c);
  }
  function confirmRemove(cu) {
    setAsk({
      title: `Remove ${cu.user.username}?`, body: `${cu.user.username} will no longer see this group.`, action: "Remove",
      run: async () => {
        const c = await session.act((api) => api.removeMember(chat.id, cu.userId));
        if (c !== false) session.refreshChat(chat.id);
      },
    });
  }
  const leave = { title: `Leave ${chat.name}?`, body: "You will no longer get its messages.", action: "Leave", run: () => session.leave(chat.id) };
  const del = { title: `Delete ${chat.name}?`, body: "The group and its messages are deleted for everyone.", action: "Delete", run: () => session.leave(chat.id, true) };

  return (
    <section class="panel" aria-label="Group members" onKeyDown={(e) => { if (e.key === "Escape" && !ask) onClose(); }}>
      <form onSubmit={rename} class="row">
        <label>
          Name
          <input value={name} maxLength={64} required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={name.trim() === chat.name}>Rename</button>
      </form>
      <ul aria-label="Members">
        {chat.users.map((cu) => (
          <li key={cu.userId}>
            <PresenceDot user={cu.user} known={session.state.connected} /> {cu.user.username}
            {cu.userId === chat.creatorId && <em> (creator)</em>}
            {creator && cu.userId !== meId && (
              <button type="button" class="link" onClick={() => confirmRemove(cu)} aria-label={`Remove ${cu.user.username}`}>Remove</button>
            )}
          </li>
        ))}
      </ul>
      <UserSearch session={session} exclude={chat.users.map((cu) => cu.userId)} onPick={add} label="Add people" />
      <div class="row">
        <button type="button" onClick={() => setAsk(leave)}>Leave group</button>
        {creator && <button type="button" class="danger" onClick={() => setAsk(del)}>Delete group</button>}
        <button type="button" class="link" onClick={onClose}>Close</button>
      </div>
      {ask && <Confirm {...ask} onClose={() => setAsk(null)} onConfirm={() => { setAsk(null); ask.run(); }} />}
    </section>
  );
}
