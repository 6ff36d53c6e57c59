// Unit tests of the outbox (no browser, no server): a fake session whose
// api.send the test answers, and local storage kept in a Map.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Outbox } from "./outbox.js";
import { Store } from "./store.js";
import { ApiError } from "./api.js";

const storage = new Map();
globalThis.localStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => storage.set(k, String(v)),
  removeItem: (k) => storage.delete(k),
};
beforeEach(() => storage.clear());

// fakeSession records every api.send; each call waits for the test to
// settle it with answer(i, message) or fail(i, error).
function fakeSession(uid = "u1") {
  const calls = [];
  const s = {
    user: { uid },
    store: new Store({ pending: new Map() }),
    get state() { return this.store.state; },
    delivered: [],
    onMessage(m) { this.delivered.push(m.id); },
    api: {
      send(chatId, msg) {
        return new Promise((resolve, reject) => calls.push({ chatId, msg, resolve, reject }));
      },
    },
  };
  s.calls = calls;
  return s;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("sends of a chat go one at a time, in order", async () => {
  const s = fakeSession();
  const box = new Outbox(s);
  const done = ["one", "two", "three"].map((t) => box.send("c", t, null));
  await tick();
  assert.deepEqual(s.calls.map((c) => c.msg.content), ["one"], "the second waits for the first");
  s.calls[0].resolve({ id: "m1" });
  await tick();
  assert.deepEqual(s.calls.map((c) => c.msg.content), ["one", "two"]);
  s.calls[1].resolve({ id: "m2" });
  await tick();
  s.calls[2].resolve({ id: "m3" });
  await Promise.all(done);
  assert.deepEqual(s.delivered, ["m1", "m2", "m3"]);
  assert.equal(s.state.pending.size, 0);
});

test("another chat's send does not wait", async () => {
  const s = fakeSession();
  const box = new Outbox(s);
  box.send("a", "slow", null);
  box.send("b", "other chat", null);
  await tick();
  assert.deepEqual(s.calls.map((c) => c.msg.content), ["slow", "other chat"]);
});

test("a file over 10 MiB is refused before any upload, without Retry", async () => {
  const s = fakeSession();
  await new Outbox(s).send("c", "", { name: "big.bin", size: (10 << 20) + 1 });
  assert.equal(s.calls.length, 0);
  const [p] = s.state.pending.values();
  assert.equal(p.error, "The file is larger than 10 MiB.");
  assert.equal(p.retryable, false);
});

test("a send failed for want of a connection is resent on reconnect with its id; a refused one is not", async () => {
  const s = fakeSession();
  const box = new Outbox(s);
  const offline = box.send("c", "offline", null);
  await tick();
  s.calls[0].reject(new ApiError(0, "unavailable", "The server cannot be reached."));
  await offline;
  const refused = box.send("c", "refused", null);
  await tick();
  s.calls[1].reject(new ApiError(403, "forbidden", "No."));
  await refused;
  const [first, second] = s.state.pending.values();
  assert.equal(first.offline, true);
  assert.equal(second.retryable, false);
  box.resendOffline();
  await tick();
  assert.equal(s.calls.length, 3);
  assert.equal(s.calls[2].msg.content, "offline");
  assert.equal(s.calls[2].msg.clientMessageId, s.calls[0].msg.clientMessageId, "the same clientMessageId: never a duplicate");
});

test("unsent text survives a reload; files and malformed entries do not", async () => {
  const s = fakeSession("ana");
  const box = new Outbox(s);
  box.send("c", "keep me", null);
  box.send("c", "", { name: "photo.png", size: 10 });
  await tick();
  const kept = JSON.parse(storage.get("chatapp:outbox:ana"));
  assert.deepEqual(kept.map((p) => p.content), ["keep me"]);
  storage.set("chatapp:outbox:ana", JSON.stringify([...kept, { chatId: 1 }, "junk"]));
  const after = fakeSession("ana");
  new Outbox(after).restore();
  const restored = [...after.state.pending.values()];
  assert.deepEqual(restored.map((p) => [p.content, p.offline, p.clientMessageId]), [["keep me", true, kept[0].clientMessageId]]);
  const other = fakeSession("bob");
  new Outbox(other).restore();
  assert.equal(other.state.pending.size, 0, "another user's outbox");
});
