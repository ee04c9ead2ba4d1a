import { useEffect, useState } from "react";

/** The time (ms since the epoch), updated every second until `until`: for a countdown. Without `until` it does not tick. */
export function useNow(until: number | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === undefined) return;
    // At once too: the state may be from long before this countdown began.
    setNow(Date.now());
    const timer = setInterval(() => {
      const time = Date.now();
      setNow(time);
      if (time >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return now;
}
