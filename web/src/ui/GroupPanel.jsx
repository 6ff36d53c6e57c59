// GroupPanel.jsx: a group's name and members: rename, add, remove (the
// creator removes anyone, anyone removes themself), leave, and delete for
// the creator. The server enforces all of it; the panel only hides what
// would be refused. Results arrive as chatUpdated / chatDeleted events.
import { useState } from "preact/hooks";
import { UserSearch } from "./UserSearch.jsx";
import { PresenceDot } from "./PresenceDot.jsx";

export function GroupPanel({ session, chat }) {
  const meId = session.user.uid;
  const [name, setName] = useState(chat.name);
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
  async function remove(uid) {
    const ok = (await session.act((api) => api.removeMember(chat.id, uid))) !== false;
    if (ok && uid === meId) session.dropChat(chat.id); // chatDeleted follows too

  }

  return (
    <section class="panel" aria-label="Group members">
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
            <PresenceDot user={cu.user} /> {cu.user.username}
            {cu.userId === chat.creatorId && <em> (creator)</em>}
            {creator && cu.userId !== meId && (
              <button type="button" class="link" onClick={() => remove(cu.userId)}>Remove</button>
            )}
          </li>
        ))}
      </ul>
      <UserSearch session={session} exclude={chat.users.map((cu) => cu.userId)} onPick={add} label="Add people" />
      <div class="row">
        <button type="button" onClick={() => remove(meId)}>Leave group</button>
        {creator && (
          <button type="button" class="danger" onClick={() => session.act((api) => api.deleteChat(chat.id))}>Delete group</button>
        )}
      </div>
    </section>
  );
}
