/**
 * Waiting for an accepted write to become readable. A POST answers 202 once the broker has the
 * record; it is stored a moment later, and until then a GET answers 404. This polls the GET with
 * a growing delay, for a bounded time, and says how it ended. Pure: time and sleeping are injected
 * (they default to the real clock, which fake timers in tests replace).
 */

export type PollOutcome<T> =
  | { status: "stored"; value: T; attempts: number }
  | { status: "failed"; reason: string; attempts: number };

export interface PollOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** Delay before the second attempt (ms); the first attempt is immediate. */
  initialDelayMs?: number;
  /** Each delay is the previous one times this. */
  factor?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A failure that polling will not cure (a 4xx other than 404): stop at once. */
  isPermanent?: (error: unknown) => boolean;
  /** How to describe an error in the outcome's reason. */
  describe?: (error: unknown) => string;
}

export const DEFAULT_POLL_TIMEOUT_MS = 30_000;

/** The waits between attempts: initial, initial*factor, … capped at maxDelayMs. */
export function backoffDelay(attempt: number, initialDelayMs: number, factor: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, attempt - 1));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function statusOf(error: unknown): number | null | undefined {
  if (typeof error === "object" && error !== null && "status" in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === "number" || status === null) return status;
  }
  return undefined;
}

/** 4xx other than 404 (not stored yet), 408 and 429 (try later) cannot be cured by asking again. */
export function isPermanentFailure(error: unknown): boolean {
  const status = statusOf(error);
  return typeof status === "number" && status >= 400 && status < 500 && ![404, 408, 429].includes(status);
}

function defaultDescribe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SECOND = 1000;
const MIN_ATTEMPT_MS = 3000;

/**
 * Calls `read` until it answers a value (stored), or fails for good, or time runs out.
 * `read` answers undefined for "not there yet" (a 404) and throws for any other failure; network
 * failures and 5xx are retried like a 404 until the deadline.
 */
export async function pollUntilReadable<T>(
  read: (signal: AbortSignal) => Promise<T | undefined>,
  options: PollOptions = {},
): Promise<PollOutcome<T>> {
  const {
    timeoutMs = DEFAULT_POLL_TIMEOUT_MS,
    initialDelayMs = 250,
    factor = 1.6,
    maxDelayMs = 4000,
    signal,
    now = () => Date.now(),
    sleep = defaultSleep,
    isPermanent = isPermanentFailure,
    describe = defaultDescribe,
  } = options;
  const deadline = now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;

  for (;;) {
    if (signal?.aborted) return { status: "failed", reason: "Stopped waiting.", attempts };
    attempts++;
    const attempt = new AbortController();
    // A hanging request must not outlive the deadline (but the last attempt still gets a fair chance).
    const budget = Math.max(deadline - now(), MIN_ATTEMPT_MS);
    const timer = setTimeout(() => attempt.abort(new DOMException("Timed out", "TimeoutError")), budget);
    const onAbort = () => attempt.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const value = await read(attempt.signal);
      if (value !== undefined) return { status: "stored", value, attempts };
      lastError = undefined;
    } catch (error) {
      if (signal?.aborted) return { status: "failed", reason: "Stopped waiting.", attempts };
      if (isPermanent(error)) return { status: "failed", reason: describe(error), attempts };
      lastError = attempt.signal.aborted ? new Error("the request did not answer in time") : error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }

    if (now() >= deadline) {
      const seconds = Math.round(timeoutMs / SECOND);
      const reason =
        lastError !== undefined
          ? `Not stored after ${seconds} s; the last attempt failed: ${describe(lastError)}`
          : `Accepted, but still not stored after ${seconds} s. The ingest path may be slow or down; reload the list later.`;
      return { status: "failed", reason, attempts };
    }
    try {
      await sleep(Math.min(backoffDelay(attempts, initialDelayMs, factor, maxDelayMs), deadline - now()), signal);
    } catch {
      return { status: "failed", reason: "Stopped waiting.", attempts };
    }
  }
}
