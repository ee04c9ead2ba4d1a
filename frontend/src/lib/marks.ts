import { useEffect, useRef } from "react";

/** Names of the performance marks the end-to-end tests and the benchmark read. */
export const MARK_CONTACTS_DRAWN = "udaconnect:contacts-drawn";
export const MARK_MAP_DRAWN = "udaconnect:map-drawn";

/** Marks `name` once per distinct `key`, as soon as `ready` holds after a render. */
export function usePerformanceMark(name: string, key: string, ready: boolean): void {
  const marked = useRef<string | null>(null);
  useEffect(() => {
    if (!ready || marked.current === key) return;
    marked.current = key;
    performance.mark(name, { detail: { key } });
  }, [name, key, ready]);
}
