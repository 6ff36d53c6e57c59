// DeleteAccount.jsx: the confirmation before DELETE /api/me, saying what
// goes and what stays, with the choice to delete one's messages too;
// after the deletion the app signs out (the account no longer exists).
import { useState } from "preact/hooks";
import { Modal } from "./Modal.jsx";

export function DeleteAccount({ session, onDeleted, onClose }) {
  const [messages, setMessages] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function remove(e) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await session.api.deleteMe(messages);
      onDeleted();
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }

  return (
    <Modal label="Delete your account?" onClose={onClose}>
      <form onSubmit={remove}>
        <h2>Delete your account?</h2>
        <p>
          Your profile, username, devices and blocks are deleted, you leave every group, and you are signed out.
          This cannot be undone. Your messages stay in the chats under “Deleted user”, unless you delete them too.
        </p>
        <label class="check">
          <input type="checkbox" checked={messages} onChange={(e) => setMessages(e.currentTarget.checked)} />
          Also delete every message I sent
        </label>
        {error && <p role="alert" class="error">{error}</p>}
        <div class="row end">
          <button type="button" onClick={onClose} autoFocus>Cancel</button>
          <button type="submit" class="danger-fill" disabled={busy}>Delete my account</button>
        </div>
      </form>
    </Modal>
  );
}
