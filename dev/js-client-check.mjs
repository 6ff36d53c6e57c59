// js-client-check.mjs: drives the server with the official socket.io-client
// (what web clients run), over websocket and over HTTP long-polling, and
// prints every event it receives as one JSON line for the Go test
// (handlers/jsclient_test.go) to check against docs/asyncapi.yaml.
// Input: env BASE, TOKEN_A, TOKEN_B, CHAT_ID, UID_B.
import { io } from "socket.io-client";

const { BASE, TOKEN_A, TOKEN_B, CHAT_ID, UID_B } = process.env;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => { out({ kind: "fail", msg }); process.exit(1); };
setTimeout(() => fail("timed out"), 30000).unref();

function connect(token, transports) {
  return new Promise((resolve, reject) => {
    const s = io(BASE, { auth: { token }, transports, reconnection: false, withCredentials: true });
    s.on("connect", () => resolve(s));
    s.on("connect_error", (err) => reject(err));
    s.onAny((event, ...args) => out({ kind: "event", transport: transports[0], event, data: args[0] }));
  });
}

function waitFor(s, event, pred) {
  return new Promise((resolve) => {
    const h = (data) => { if (pred(data)) { s.off(event, h); resolve(data); } };
    s.on(event, h);
  });
}

try {
  await connect("bad-token", ["websocket"]);
  fail("bad token connected");
} catch (err) {
  out({ kind: "connect_error", message: err.message, data: err.data });
}

const a = await connect(TOKEN_A, ["websocket"]);
const b = await connect(TOKEN_B, ["polling"]);
for (const [name, s] of [["websocket", a], ["polling", b]]) {
  const ack = await s.timeout(10000).emitWithAck("joinChat", CHAT_ID);
  out({ kind: "ack", transport: name, data: ack });
  const bad = await s.timeout(10000).emitWithAck("joinChat", 42);
  out({ kind: "ack", transport: name, data: bad });
}
const typing = waitFor(a, "typing", (t) => t.userId === UID_B);
await b.timeout(10000).emitWithAck("typing", CHAT_ID);
await typing;

const content = "from the js client";
const arrived = Promise.all([
  waitFor(a, "newMessage", (m) => m.content === content),
  waitFor(b, "newMessage", (m) => m.content === content),
  waitFor(b, "chatSummary", (m) => m.message.content === content),
]);
const res = await fetch(`${BASE}/api/chats/${CHAT_ID}/messages`, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN_A}` },
  body: JSON.stringify({ content, clientMessageId: "js-1" }),
});
if (res.status !== 201) fail(`send answered ${res.status}`);
await arrived;
a.close();
b.close();
out({ kind: "done" });
process.exit(0);
