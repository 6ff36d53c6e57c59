// Content.jsx: a message's text with its http(s) links clickable and the
// members it mentions ("@name", names given) marked. Links open in a new
// tab without the app as opener or referrer.
import { escapeRe, linkify } from "../model.js";

export function Content({ text, names = [] }) {
  return linkify(text).map((part, i) => (part.href
    ? <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow">{part.text}</a>
    : marked(part.text, names, i)));
}

// marked wraps each "@name" of names in text in a <mark>.
function marked(text, names, key) {
  if (!names.length) return text;
  const re = new RegExp(`@(?:${names.map(escapeRe).join("|")})`, "gu");
  const out = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(<mark key={`${key}-${m.index}`} class="mention">{m[0]}</mark>);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
