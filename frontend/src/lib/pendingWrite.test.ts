import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, isPermanentFailure, pollUntilReadable } from "./pendingWrite";

class HttpError extends Error {
  readonly status: number | null;
  constructor(status: number | null) {
    super(status === null ? "unreachable" : `HTTP ${status}`);
    this.status = status;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("pollUntilReadable", () => {
  it("404 then 200: stored", async () => {
    const answers = [undefined, undefined, { id: "p1" }];
    const read = vi.fn(async () => answers.shift());
    const outcome = pollUntilReadable(read, { initialDelayMs: 200, factor: 2 });
    await vi.advanceTimersByTimeAsync(200 + 400);
    await expect(outcome).resolves.toEqual({ status: "stored", value: { id: "p1" }, attempts: 3 });
    expect(read).toHaveBeenCalledTimes(3);
  });

  it("reads at once, then backs off", async () => {
    const read = vi.fn(async () => undefined);
    void pollUntilReadable(read, { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, timeoutMs: 10_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(read).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(read).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(400);
    expect(read).toHaveBeenCalledTimes(4);
  });

  it("still 404 at the deadline: failed, saying why", async () => {
    const read = vi.fn(async () => undefined);
    const outcome = pollUntilReadable(read, { timeoutMs: 30_000 });
    await vi.advanceTimersByTimeAsync(30_000);
    const result = await outcome;
    expect(result.status).toBe("failed");
    if (result.status === "failed") expect(result.reason).toMatch(/still not stored after 30 s/);
    // Bounded: a last attempt at the deadline, none after.
    const calls = read.mock.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(read).toHaveBeenCalledTimes(calls);
  });

  it("a 5xx keeps trying, then fails with the last error", async () => {
    const read = vi.fn(async () => {
      throw new HttpError(503);
    });
    const outcome = pollUntilReadable(read, { timeoutMs: 10_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    const result = await outcome;
    expect(read.mock.calls.length).toBeGreaterThan(3);
    expect(result).toMatchObject({ status: "failed" });
    if (result.status === "failed") expect(result.reason).toBe("Not stored after 10 s; the last attempt failed: HTTP 503");
  });

  it("a 5xx, then the person: stored", async () => {
    const answers: Array<() => unknown> = [
      () => {
        throw new HttpError(500);
      },
      () => undefined,
      () => ({ id: "p1" }),
    ];
    const outcome = pollUntilReadable(async () => answers.shift()!());
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(outcome).resolves.toMatchObject({ status: "stored", attempts: 3 });
  });

  it("a network failure is retried like a 5xx", async () => {
    let n = 0;
    const outcome = pollUntilReadable(async () => {
      n++;
      if (n < 3) throw new HttpError(null);
      return "ok";
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(outcome).resolves.toMatchObject({ status: "stored", value: "ok" });
  });

  it("a 4xx other than 404 stops at once", async () => {
    const read = vi.fn(async () => {
      throw new HttpError(422);
    });
    const result = await pollUntilReadable(read);
    expect(result).toEqual({ status: "failed", reason: "HTTP 422", attempts: 1 });
  });

  it("a request that hangs is cut off at the deadline", async () => {
    const read = vi.fn(
      (signal: AbortSignal) =>
        new Promise<undefined>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    );
    const outcome = pollUntilReadable(read, { timeoutMs: 5_000 });
    await vi.advanceTimersByTimeAsync(5_000);
    const result = await outcome;
    expect(result.status).toBe("failed");
    if (result.status === "failed") expect(result.reason).toMatch(/did not answer in time/);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const read = vi.fn(async () => undefined);
    const outcome = pollUntilReadable(read, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(outcome).resolves.toMatchObject({ status: "failed", reason: "Stopped waiting." });
    expect(read).toHaveBeenCalledTimes(1);
  });
});

describe("helpers", () => {
  it("backoff grows and is capped", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 250, 2, 3000))).toEqual([250, 500, 1000, 2000, 3000, 3000]);
  });

  it("only 4xx other than 404, 408, 429 are permanent", () => {
    expect(isPermanentFailure(new HttpError(422))).toBe(true);
    expect(isPermanentFailure(new HttpError(400))).toBe(true);
    expect(isPermanentFailure(new HttpError(404))).toBe(false);
    expect(isPermanentFailure(new HttpError(429))).toBe(false);
    expect(isPermanentFailure(new HttpError(503))).toBe(false);
    expect(isPermanentFailure(new HttpError(null))).toBe(false);
    expect(isPermanentFailure(new Error("x"))).toBe(false);
  });
});
