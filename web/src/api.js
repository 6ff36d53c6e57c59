// api.js: the REST side of the contract. Every call carries a fresh
// Firebase ID token (the SDK refreshes it before expiry), and every
// failure becomes an ApiError whose message is the sentence from the
// server's Error body, ready to show to the user.
import { retryable, retryDelay } from "./model.js";

// ApiError is a failed call: status 0 means no answer reached us.
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function toError(res) {
  let code = "internal";
  let message = `The server answered ${res.status}.`;
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // not an Error body (a proxy's page): keep the generic sentence
  }
  return new ApiError(res.status, code, message, Number(res.headers.get("Retry-After")) || 0);
}

const offline = () => new ApiError(0, "unavailable", "The server cannot be reached. Check your connection.");

// Api calls the backend at baseUrl as the user whose token getToken gives.
export class Api {
  constructor(baseUrl, getToken) {
    this.base = baseUrl.replace(/\/$/, "");
    this.getToken = getToken;
  }

  async call(method, path, body) {
    const token = await this.getToken();
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw offline();
    }
    if (!res.ok) throw await toError(res);
    return res.status === 204 ? null : res.json();
  }

  me() { return this.call("GET", "/api/me"); }
  updateMe(patch) { return this.call("PATCH", "/api/me", patch); }
  searchUsers(q) { return this.call("GET", `/api/users?q=${encodeURIComponent(q)}&limit=20`); }
  chats(before) { return this.call("GET", `/api/chats?limit=50${before ? `&before=${encodeURIComponent(before)}` : ""}`); }
  chat(id) { return this.call("GET", `/api/chats/${id}`); }
  createChat(userIds, isGroup, name) { return this.call("POST", "/api/chats", { userIds, isGroup, ...(name ? { name } : {}) }); }
  renameChat(id, name) { return this.call("PATCH", `/api/chats/${id}`, { name }); }
  deleteChat(id) { return this.call("DELETE", `/api/chats/${id}`); }
  addMembers(id, userIds) { return this.call("POST", `/api/chats/${id}/members`, { userIds }); }
  removeMember(id, uid) { return this.call("DELETE", `/api/chats/${id}/members/${uid}`); }
  markRead(id) { return this.call("POST", `/api/chats/${id}/read`); }
  // mute until an ISO time (MUTED_FOREVER: until unmuted); null unmutes.
  mute(id, until) { return until ? this.call("PUT", `/api/chats/${id}/mute`, { until }) : this.call("DELETE", `/api/chats/${id}/mute`); }
  blocks() { return this.call("GET", "/api/me/blocks"); }
  putDevice(id, token, platform) { return this.call("PUT", `/api/me/devices/${encodeURIComponent(id)}`, { token, platform }); }
  deleteDevice(id) { return this.call("DELETE", `/api/me/devices/${encodeURIComponent(id)}`); }
  block(uid, on) { return this.call(on ? "PUT" : "DELETE", `/api/me/blocks/${encodeURIComponent(uid)}`); }
  // messagesBefore pages history backwards; no cursor gives the newest.
  messagesBefore(id, before) {
    return this.call("GET", `/api/chats/${id}/messages?limit=50${before ? `&before=${before}` : ""}`);
  }
  // messagesAfter catches up after a reconnect.
  messagesAfter(id, after) { return this.call("GET", `/api/chats/${id}/messages?limit=100&after=${after}`); }
  // messagesChangedAfter catches up with edits and deletions, by rev.
  messagesChangedAfter(id, rev) { return this.call("GET", `/api/chats/${id}/messages?limit=100&changedAfter=${encodeURIComponent(rev)}`); }
  editMessage(id, mid, content, mentions) { return this.call("PATCH", `/api/chats/${id}/messages/${mid}`, { content, ...(mentions ? { mentions } : {}) }); }
  react(id, mid, emoji, on) { return this.call(on ? "PUT" : "DELETE", `/api/chats/${id}/messages/${mid}/reactions/${encodeURIComponent(emoji)}`); }
  deleteMessage(id, mid) { return this.call("DELETE", `/api/chats/${id}/messages/${mid}`); }

  // deleteMe deletes the user's account (and, when asked, their messages).
  deleteMe(deleteMessages) { return this.call("DELETE", "/api/me", { deleteMessages: !!deleteMessages }); }

  // exportBlob fetches the user's data (NDJSON) with the bearer token.
  exportBlob() { return this.fileBlob("/api/me/export"); }

  // fileBlob fetches an attachment with the bearer token: an <img src>
  // cannot send one, so images are shown through a blob: URL.
  async fileBlob(fileUrl) {
    const token = await this.getToken();
    let res;
    try {
      res = await fetch(this.base + fileUrl, { headers: { Authorization: `Bearer ${token}` } });
    } catch {
      throw offline();
    }
    if (!res.ok) throw await toError(res);
    return res.blob();
  }

  // sendOnce posts one message: JSON, or multipart when there is a file,
  // through XMLHttpRequest because fetch cannot report upload progress.
  async sendOnce(chatId, { content, file, clientMessageId, replyToId, mentions }, onProgress) {
    const token = await this.getToken();
    const url = `${this.base}/api/chats/${chatId}/messages`;
    if (!file) {
      let res;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ content, clientMessageId, ...(replyToId ? { replyToId } : {}), ...(mentions && mentions.length ? { mentions } : {}) }),
        });
      } catch {
        throw offline();
      }
      if (!res.ok) throw await toError(res);
      return res.json();
    }
    const form = new FormData();
    form.append("content", content);
    form.append("clientMessageId", clientMessageId);
    if (replyToId) form.append("replyToId", replyToId);
    for (const uid of mentions || []) form.append("mentions", uid);
    form.append("file", file, file.name); // the file must be the last part
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(offline());
      xhr.onload = () => {
        const res = new Response(xhr.responseText, {
          status: xhr.status,
          headers: { "Retry-After": xhr.getResponseHeader("Retry-After") || "" },
        });
        if (xhr.status >= 200 && xhr.status < 300) resolve(res.json());
        else toError(res).then(reject);
      };
      xhr.send(form);
    });
  }

  // send posts a message, retrying what may succeed later with the SAME
  // clientMessageId: if an earlier attempt did reach the server, the
  // retry is answered with that first message, never a duplicate.
  async send(chatId, msg, { onProgress, attempts = 6, sleep = wait } = {}) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(chatId, msg, onProgress);
      } catch (err) {
        if (!(err instanceof ApiError) || !retryable(err.status) || attempt + 1 >= attempts) throw err;
        await sleep(retryDelay(attempt, err.retryAfter));
      }
    }
  }
}

function wait(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
