// firebase.js: Firebase Authentication for the configured project, on the
// Auth emulator when config.json names one.
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth } from "firebase/auth";

// initAuth returns the Auth instance of the configured project.
export function initAuth(config) {
  const app = initializeApp(config.firebase);
  const auth = getAuth(app);
  if (config.authEmulatorUrl) connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
  return auth;
}
