// Profile.jsx: the user's own profile: the username others find and see
// (unique, case-insensitively: a taken one is refused with the server's
// sentence), whether others see the user's read receipts, push status,
// a download of everything the service holds of the user, and the
// deletion of their account (confirmed first: DeleteAccount.jsx).
import { useState } from "preact/hooks";
import { DeleteAccount } from "./DeleteAccount.jsx";
import { Modal } from "./Modal.jsx";

export function Profile({ session, onClose, onSignOut }) {
  const [deleting, setDeleting] = useState(false);
  const [name, setName] = useState(session.state.me ? session.state.me.username : "");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [receipts, setReceipts] = useState(!session.state.me || session.state.me.readReceipts !== false);

  // download saves the user's data (GET /api/me/export) as a file.
  async function download() {
    setError("");
    try {
      const url = URL.createObjectURL(await session.api.exportBlob());
      const link = document.createElement("a");
      link.href = url;
      link.download = "chatapp-export.ndjson";
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(err.message);
    }
  }

  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      session.store.set({ me: await session.api.updateMe({ username: name.trim(), readReceipts: receipts }) });
      onClose();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  if (deleting) return <DeleteAccount session={session} onDeleted={onSignOut} onClose={() => setDeleting(false)} />;
  return (
    <Modal label="Profile" onClose={onClose}>
      <form onSubmit={save}>
        <h2>Profile</h2>
        <label>
          Username
          <input value={name} maxLength={64} required autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={receipts} onChange={(e) => setReceipts(e.currentTarget.checked)} />
          Read receipts: others see when I have read their messages
        </label>
        <p class="hint push-status">{session.push.status()}</p>
        <p><button type="button" class="link" onClick={download}>Download my data</button></p>
        <p><button type="button" class="link danger" onClick={() => setDeleting(true)}>Delete my account…</button></p>
        {error && <p role="alert" class="error">{error}</p>}
        <div class="row">
          <button type="submit" disabled={busy || !name.trim()}>Save</button>
          <button type="button" class="link" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}
