// Attachment.jsx: a message's file. The file URL needs the bearer token,
// which an <img src> or <a href> cannot send: images are fetched and shown
// through a blob: URL (revoked when the message leaves the screen), other
// files are fetched when the user asks and saved under their name.
import { useEffect, useState } from "preact/hooks";
import { isImage } from "../model.js";

export function Attachment({ api, url, name }) {
  return isImage(name) ? <InlineImage api={api} url={url} name={name} /> : <Download api={api} url={url} name={name} />;
}

function InlineImage({ api, url, name }) {
  const [src, setSrc] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    let objectUrl = "";
    let live = true;
    api.fileBlob(url).then(
      (blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setSrc(objectUrl);
      },
      (err) => live && setError(err.message),
    );
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url]);
  if (error) return <p class="error">{name}: {error}</p>;
  return src ? <img class="attachment" src={src} alt={name} /> : <p class="file">Loading {name}…</p>;
}

function Download({ api, url, name }) {
  const [error, setError] = useState("");
  async function save() {
    setError("");
    try {
      const objectUrl = URL.createObjectURL(await api.fileBlob(url));
      const a = document.createElement("a");
      a.href = objectUrl;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(objectUrl), 10000);
    } catch (err) {
      setError(err.message);
    }
  }
  return (
    <p class="file">
      <button type="button" class="link" onClick={save}>Download {name}</button>
      {error && <span role="alert" class="error"> {error}</span>}
    </p>
  );
}
