// push.js: push notifications for this browser (docs/push.md), when
// config.json has a vapidKey. Permission is asked after the user's first
// sent message, never on load (browsers penalise pages that ask at once);
// once granted, the service worker is registered and the FCM token is
// registered as this browser's device, again at every start (tokens
// change); the device is deleted at sign-out, before the token that may
// delete it is gone. Without a vapidKey (the emulators) push is off.
import { getApp } from "firebase/app";
import { deleteToken, getMessaging, getToken } from "firebase/messaging";

const DEVICE_KEY = "chatapp.pushDevice"; // this browser's device id
const ASKED_KEY = "chatapp.pushAsked"; // permission was asked once

// Push is the push notifications of a session.
export class Push {
  constructor(session, config) {
    this.s = session;
    this.config = config;
    this.registered = false;
  }

  // configured: push needs the key and the Firebase app's ids.
  get configured() {
    const f = this.config.firebase;
    return !!this.config.vapidKey && !!f.appId && !!f.messagingSenderId;
  }

  get supported() {
    return this.configured && "serviceWorker" in navigator && "Notification" in window && "PushManager" in window;
  }

  // status is what the profile says of push on this browser.
  status() {
    if (!this.configured) return "Push notifications are off: config.json has no vapidKey (or firebase.appId, messagingSenderId).";
    if (!this.supported) return "Push notifications are not supported by this browser.";
    if (Notification.permission === "denied") return "Push notifications are blocked in this browser's settings.";
    if (this.registered) return "Push notifications are on for this browser.";
    return "Push notifications start after your first message, when you allow them.";
  }

  // start registers again when permission was given before.
  async start() {
    if (this.supported && Notification.permission === "granted") await this.register();
  }

  // afterSend asks for permission once, after the user's first sent message.
  async afterSend() {
    if (!this.supported || Notification.permission !== "default" || localStorage.getItem(ASKED_KEY)) return;
    localStorage.setItem(ASKED_KEY, "1");
    if ((await Notification.requestPermission()) === "granted") await this.register();
  }

  async register() {
    try {
      const config = encodeURIComponent(JSON.stringify(this.config.firebase));
      const reg = await navigator.serviceWorker.register(`/firebase-messaging-sw.js?config=${config}`, { type: "module" });
      const token = await getToken(getMessaging(getApp()), { vapidKey: this.config.vapidKey, serviceWorkerRegistration: reg });
      await this.s.api.putDevice(deviceId(), token, "web");
      this.registered = true;
    } catch (err) {
      this.registered = false;
      console.warn("push registration failed:", err.message || err);
    }
    this.s.store.set({}); // the profile's status line
  }

  // stop deletes this browser's device (at sign-out, while the user's
  // token still works).
  async stop() {
    if (!this.registered) return;
    this.registered = false;
    await this.s.api.deleteDevice(deviceId()).catch(() => {});
    await deleteToken(getMessaging(getApp())).catch(() => {});
  }
}

// deviceId is this browser's device id, made once.
function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}
