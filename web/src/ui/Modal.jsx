// Modal.jsx: a dialog on the native <dialog> with showModal(): it takes
// focus, keeps Tab inside, and Esc closes it (onClose).
import { useEffect, useRef } from "preact/hooks";

export function Modal({ label, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d && d.open && d.close();
  }, []);
  return (
    <dialog ref={ref} class="modal" aria-label={label} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      {children}
    </dialog>
  );
}

// Confirm asks before a destructive action: the action's own words on
// the button (never "OK"), Cancel first in the tab order.
export function Confirm({ title, body, action, onConfirm, onClose }) {
  return (
    <Modal label={title} onClose={onClose}>
      <form method="dialog" onSubmit={(e) => { e.preventDefault(); onConfirm(); }}>
        <h2>{title}</h2>
        {body && <p>{body}</p>}
        <div class="row end">
          <button type="button" onClick={onClose} autoFocus>Cancel</button>
          <button type="submit" class="danger-fill">{action}</button>
        </div>
      </form>
    </Modal>
  );
}
