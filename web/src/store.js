// store.js: one state object, replaced (never mutated) on every change,
// and a hook that re-renders a component when it changes.
import { useEffect, useState } from "preact/hooks";

// Store holds the state; set merges a patch and tells the subscribers.
export class Store {
  constructor(state) {
    this.state = state;
    this.subs = new Set();
  }

  set(patch) {
    this.state = { ...this.state, ...(typeof patch === "function" ? patch(this.state) : patch) };
    for (const fn of this.subs) fn(this.state);
  }

  subscribe(fn) {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

// useStore returns the store's current state and re-renders on change.
export function useStore(store) {
  const [state, setState] = useState(store.state);
  useEffect(() => store.subscribe(setState), [store]);
  return state;
}
