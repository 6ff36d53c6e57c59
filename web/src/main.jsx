// main.jsx: start-up — config, Firebase Auth, then the sign-in screen or
// the chat for the signed-in user.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onAuthStateChanged } from "firebase/auth";
import { loadConfig } from "./config.js";
import { initAuth } from "./firebase.js";
import { Session } from "./session.js";
import { SignIn } from "./ui/SignIn.jsx";
import { ChatApp } from "./ui/ChatApp.jsx";
import "./style.css";

function App({ config, auth }) {
  const [user, setUser] = useState(undefined); // undefined: not known yet
  const [signingUp, setSigningUp] = useState(false); // the new account's name is not in its token yet
  const [session, setSession] = useState(null);
  useEffect(() => onAuthStateChanged(auth, setUser), [auth]);
  useEffect(() => {
    if (!user || signingUp) return undefined;
    const s = new Session(config, auth, user);
    setSession(s);
    s.start();
    return () => { s.stop(); setSession(null); };
  }, [user, signingUp]);
  if (user === undefined) return <p class="center">Loading…</p>;
  if (!user || (signingUp && !session)) return <SignIn auth={auth} onSignUp={setSigningUp} />;
  return session ? <ChatApp session={session} auth={auth} /> : null;
}

// restrictConnections adds the built app's connect-src (see
// vite.config.js): the API (REST and its websocket) and Firebase Auth, or
// its emulator, and with push on, Firebase Messaging's registration. A policy added later narrows what the first allowed.
function restrictConnections(config) {
  if (!import.meta.env.PROD) return;
  const api = new URL(config.apiUrl);
  const ws = `${api.protocol === "https:" ? "wss:" : "ws:"}//${api.host}`;
  const sources = ["'self'", api.origin, ws, "https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com"];
  if (config.authEmulatorUrl) sources.push(new URL(config.authEmulatorUrl).origin);
  if (config.vapidKey) sources.push("https://firebaseinstallations.googleapis.com", "https://fcmregistrations.googleapis.com");
  const meta = document.createElement("meta");
  meta.httpEquiv = "Content-Security-Policy";
  meta.content = `connect-src ${sources.join(" ")}`;
  document.head.appendChild(meta);
}

const root = document.getElementById("app");
loadConfig()
  .then((config) => {
    restrictConnections(config);
    render(<App config={config} auth={initAuth(config)} />, root);
  })
  .catch((err) => render(<p role="alert" class="center">{err.message}</p>, root));
