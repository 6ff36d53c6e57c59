// SignIn.jsx: email and password sign-in and sign-up on Firebase Auth.
// The display name given at sign-up becomes the token's `name`, from which
// the backend makes the username on the first GET /api/me: the app holds
// the session (onSignUp) until the name is in the token, or the profile
// would be made from the email.
import { useState } from "preact/hooks";
import { createUserWithEmailAndPassword, signInWithEmailAndPassword, updateProfile } from "firebase/auth";
import { authMessage } from "../model.js";

export function SignIn({ auth, onSignUp }) {
  const [mode, setMode] = useState("signin");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    try {
      if (mode === "signup") {
        onSignUp(true);
        try {
          const cred = await createUserWithEmailAndPassword(auth, f.get("email"), f.get("password"));
          await updateProfile(cred.user, { displayName: f.get("name").trim() });
          await cred.user.getIdToken(true); // put the name in the token before the first /api/me
        } finally {
          onSignUp(false);
        }
      } else {
        await signInWithEmailAndPassword(auth, f.get("email"), f.get("password"));
      }
    } catch (err) {
      setError(authMessage(err.code));
      setBusy(false);
    }
  }

  const signup = mode === "signup";
  return (
    <main class="signin">
      <h1>ChatApp</h1>
      <form onSubmit={submit} aria-label={signup ? "Create an account" : "Sign in"}>
        {signup && (
          <label>
            Name
            <input name="name" required maxLength={64} autoComplete="nickname" />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" required autoComplete="email" />
        </label>
        <label>
          Password
          <input name="password" type="password" required minLength={6} autoComplete={signup ? "new-password" : "current-password"} />
        </label>
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>{signup ? "Create account" : "Sign in"}</button>
      </form>
      <button class="link" type="button" onClick={() => { setMode(signup ? "signin" : "signup"); setError(""); }}>
        {signup ? "I have an account: sign in" : "New here? Create an account"}
      </button>
    </main>
  );
}
