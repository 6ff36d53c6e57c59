// UserSearch.jsx: find users by username prefix (GET /api/users), a short
// pause after the last keystroke so typing a name is one request.
import { useEffect, useState } from "preact/hooks";

export function UserSearch({ session, exclude = [], onPick, label = "Find people", autoFocus = false }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState([]);
  useEffect(() => {
    if (!q.trim()) {
      setFound([]);
      return undefined;
    }
    let live = true;
    const t = setTimeout(async () => {
      const res = await session.act((api) => api.searchUsers(q.trim()));
      if (live && res) setFound(res.users);
    }, 250);
    return () => { live = false; clearTimeout(t); };
  }, [q]);
  const shown = found.filter((u) => u.id !== session.user.uid && !exclude.includes(u.id));
  return (
    <div class="search">
      <label>
        {label}
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="username" autoComplete="off" autoFocus={autoFocus} />
      </label>
      <ul aria-label="People found">
        {shown.map((u) => (
          <li key={u.id}>
            <button type="button" class="link" onClick={() => onPick(u)}>{u.username}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}
