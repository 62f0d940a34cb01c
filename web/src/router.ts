// A small history-API router: the whole state of every view lives in the URL, so any view
// can be shared by copying the address.
import { h, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((f) => f()));

/** Goes to `url` (path + query). `replace` edits the current history entry instead. */
export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((f) => f());
}

export interface Location {
  path: string;
  params: URLSearchParams;
}

/** The current location; re-renders the caller when it changes. */
export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const f = () => setTick((t) => t + 1);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

/** `path` with `params` (empty values left out). */
export function urlOf(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The current query with some keys changed (undefined removes a key). */
export function withParams(changes: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${location.pathname}?${s}` : location.pathname;
}

interface LinkProps {
  href: string;
  replace?: boolean;
  class?: string;
  title?: string;
  children?: ComponentChildren;
  [attr: string]: unknown;
}

/** An anchor that navigates in-app on a plain click and behaves as a link otherwise. */
export function Link({ href, replace, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href, replace);
  };
  return h('a', { href, onClick, ...rest }, children);
}
