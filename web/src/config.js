// config.js: the deployment's settings, read at start from /config.json
// next to index.html, so one build serves any environment:
//
//   {
//     "apiUrl": "https://chat-xyz.a.run.app",        // the backend (REST + Socket.IO)
//     "firebase": {"apiKey": "...", "authDomain": "...", "projectId": "...",
//                  "appId": "...", "messagingSenderId": "..."},   // the last two for push
//     "authEmulatorUrl": "http://127.0.0.1:9099",    // development only; omit in production
//     "vapidKey": "B..."                              // Web Push certificate key pair's public key: push on (docs/push.md)
//   }
//
// The Firebase web config is public by design (it names the project; it
// grants nothing), so config.json holds no secret.
export async function loadConfig() {
  const res = await fetch("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json could not be loaded (${res.status}): see web/README.md.`);
  const c = await res.json();
  if (!c.apiUrl || !c.firebase || !c.firebase.apiKey || !c.firebase.projectId) {
    throw new Error("config.json needs apiUrl and firebase.apiKey/projectId: see web/README.md.");
  }
  return c;
}
