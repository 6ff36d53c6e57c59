// sw.js, served as /firebase-messaging-sw.js: the service worker that
// receives push notifications. FCM's `notification` payload is shown by
// Firebase Messaging's worker code when no page of the app has focus, and
// a click opens the push's link (the chat). The Firebase config comes in
// the worker's URL: the worker's push handler must be set up while its
// script first runs, before any fetch of config.json could answer.
import { initializeApp } from "firebase/app";
import { getMessaging } from "firebase/messaging/sw";

const config = JSON.parse(new URL(self.location.href).searchParams.get("config") || "null");
try {
  if (config) getMessaging(initializeApp(config));
} catch (err) {
  // A browser whose workers lack push (some headless ones) still gets a
  // worker: the page's registration goes on, and nothing shows.
  console.warn("push: Firebase Messaging is not supported in this worker:", err.message || err);
}
