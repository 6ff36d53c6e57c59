// ChatMenu.jsx: the open chat's menu: mute (1 hour, 8 hours, until turned
// back on) or unmute — a mute silences notifications only: messages still
// come and count — and, in a direct chat, block or unblock the other
// person, after a confirmation that says what a block does.
import { useState } from "preact/hooks";
import { isMuted } from "../model.js";
import { MUTE_CHOICES } from "../privacy.js";
import { Confirm } from "./Modal.jsx";

export function ChatMenu({ session, chat, other, blocked, onClose }) {
  const [ask, setAsk] = useState(null);
  const muted = isMuted(chat);
  const mute = async (ms) => { if (await session.privacy.mute(chat.id, ms)) onClose(); };
  const name = other ? other.username : "";
  const block = {
    title: `Block ${name}?`, action: "Block",
    body: `Neither of you can message the other here or add the other to groups, and neither sees the other's online status, typing or read receipts. Groups you share go on.`,
    run: async () => { if (await session.privacy.block(other.id, true)) onClose(); },
  };
  return (
    <section class="panel menu" aria-label="Chat options" onKeyDown={(e) => { if (e.key === "Escape" && !ask) onClose(); }}>
      <p>Notifications</p>
      {muted ? (
        <button type="button" onClick={() => mute(0)}>Unmute</button>
      ) : (
        <div class="row" role="group" aria-label="Mute">
          {MUTE_CHOICES.map((c) => (
            <button key={c.label} type="button" onClick={() => mute(c.ms)} aria-label={`Mute for ${c.label.toLowerCase()}`}>{c.label}</button>
          ))}
        </div>
      )}
      {other && (blocked ? (
        <button type="button" onClick={async () => { if (await session.privacy.block(other.id, false)) onClose(); }}>Unblock {name}</button>
      ) : (
        <button type="button" class="danger" onClick={() => setAsk(block)}>Block {name}</button>
      ))}
      <button type="button" class="link" onClick={onClose}>Close</button>
      {ask && <Confirm {...ask} onClose={() => setAsk(null)} onConfirm={() => { setAsk(null); ask.run(); }} />}
    </section>
  );
}
