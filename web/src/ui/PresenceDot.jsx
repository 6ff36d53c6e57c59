// PresenceDot.jsx: a user's online status as a dot with a text label for
// screen readers and a tooltip with when they were last seen. While this
// client is offline, nobody is shown online: it cannot know.
export function PresenceDot({ user, known = true }) {
  const online = known && user.online;
  const label = known ? presenceLine(user, true) : `${user.username}: status unknown while offline`;
  return <span class={`dot ${online ? "online" : "offline"}`} role="img" aria-label={label} title={label} data-online={String(!!online)} />;
}

// presenceLine says whether the user is online or when last seen; named
// puts the username first.
export function presenceLine(user, named = false) {
  const who = named ? `${user.username} ` : "";
  if (user.online) return named ? `${user.username} is online` : "online";
  if (!user.lastSeen) return named ? `${user.username} is offline` : "offline";
  return `${who}${named ? "was last" : "last"} seen ${new Date(user.lastSeen).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}`;
}
