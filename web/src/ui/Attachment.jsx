// Attachment.jsx: a message's file. The file URL needs the bearer token,
// which an <img src> or <a href> cannot send: images are fetched and shown
// through a blob: URL (revoked when the message leaves the screen), other
// files are fetched when the user asks and saved under their name. A blob:
// URL lives on the app's origin, so only bytes that are an image (by their
// first bytes, whatever the name says) become one with an image type;
// anything else is saved, typed as opaque bytes, never rendered.
import { useEffect, useState } from "preact/hooks";
import { imageType, isImage } from "../model.js";

export function Attachment({ api, url, name }) {
  return isImage(name) ? <InlineImage api={api} url={url} name={name} /> : <Download api={api} url={url} name={name} />;
}

// imageBlob is the file as an image blob, or null when its bytes are not
// an image.
async function imageBlob(api, url) {
  const blob = await api.fileBlob(url);
  const type = imageType(new Uint8Array(await blob.slice(0, 16).arrayBuffer()));
  return type ? new Blob([blob], { type }) : null;
}

function InlineImage({ api, url, name }) {
  const [src, setSrc] = useState("");
  const [notImage, setNotImage] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    let objectUrl = "";
    let live = true;
    imageBlob(api, url).then(
      (blob) => {
        if (!live) return;
        if (!blob) return setNotImage(true);
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
  if (notImage) return <Download api={api} url={url} name={name} />;
  if (error) return <p class="error">{name}: {error}</p>;
  return src ? <img class="attachment" src={src} alt={name} /> : <p class="file">Loading {name}…</p>;
}

function Download({ api, url, name }) {
  const [error, setError] = useState("");
  async function save() {
    setError("");
    try {
      const bytes = new Blob([await api.fileBlob(url)], { type: "application/octet-stream" });
      const objectUrl = URL.createObjectURL(bytes);
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
