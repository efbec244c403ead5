/** A small history router for the app under its base path (`/console/`). */

import { useEffect, useState } from "preact/hooks";

export const BASE: string = import.meta.env.BASE;

export interface Location {
  /** The path below the base, without leading or trailing slash ("" for the home). */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  return { path: path.replace(/\/+$/, ""), query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
addEventListener("popstate", () => listeners.forEach((listener) => listener()));

/** Go to `to` (below the base, e.g. "licenses/lic_1?status=active"). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = href(to);
  if (url === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((listener) => listener());
}

export function href(to: string): string {
  return BASE + to.replace(/^\/+/, "");
}

export function useLocation(): Location {
  const [value, setValue] = useState(current);
  useEffect(() => {
    const update = () => setValue(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return value;
}

/** The parameters of `path` when it matches `pattern` ("licenses/:licenseId"), else null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const value = got[index]!;
    if (part.startsWith(":")) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return null;
      }
    } else if (part !== value) {
      return null;
    }
  }
  return params;
}

/** Whether a click should be left to the browser (new tab, download, other button). */
export function isModifiedClick(event: MouseEvent): boolean {
  return event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
}

/** The query of a search form as a string: empty values left out. */
export function queryString(values: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}
