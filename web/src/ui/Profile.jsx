// Profile.jsx: the user's own profile: the username others find and see
// (unique, case-insensitively: a taken one is refused with the server's
// sentence).
import { useState } from "preact/hooks";
import { Modal } from "./Modal.jsx";

export function Profile({ session, onClose }) {
  const [name, setName] = useState(session.state.me ? session.state.me.username : "");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      session.store.set({ me: await session.api.updateMe({ username: name.trim() }) });
      onClose();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal label="Profile" onClose={onClose}>
      <form onSubmit={save}>
        <h2>Profile</h2>
        <label>
          Username
          <input value={name} maxLength={64} required autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        {error && <p role="alert" class="error">{error}</p>}
        <div class="row">
          <button type="submit" disabled={busy || !name.trim()}>Save</button>
          <button type="button" class="link" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}
