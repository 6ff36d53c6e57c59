// PresenceDot.jsx: a user's online status as a dot with a text label for
// screen readers and a tooltip with when they were last seen.
export function PresenceDot({ user }) {
  const label = user.online ? `${user.username} is online` : lastSeen(user);
  return <span class={`dot ${user.online ? "online" : "offline"}`} role="img" aria-label={label} title={label} data-online={String(!!user.online)} />;
}

function lastSeen(user) {
  if (!user.lastSeen) return `${user.username} is offline`;
  return `${user.username} was last seen ${new Date(user.lastSeen).toLocaleString()}`;
}
