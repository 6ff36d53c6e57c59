// Content.jsx: a message's text with its http(s) links clickable. Links
// open in a new tab without the app as opener or referrer.
import { linkify } from "../model.js";

export function Content({ text }) {
  return linkify(text).map((part, i) => (part.href
    ? <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow">{part.text}</a>
    : part.text));
}
