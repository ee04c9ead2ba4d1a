import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { retryDelay, shouldRetry } from "./queries";

const error = (status: number | null, retryAfterSeconds?: number) =>
  new ApiError({ service: "connection", status, title: "x", retryAfterSeconds });

describe("retries", () => {
  it("never retries a 4xx", () => {
    expect(shouldRetry(0, error(404))).toBe(false);
    expect(shouldRetry(0, error(422))).toBe(false);
  });

  it("retries network failures, 5xx and 429 twice", () => {
    for (const e of [error(null), error(503), error(500), error(429)]) {
      expect(shouldRetry(0, e)).toBe(true);
      expect(shouldRetry(1, e)).toBe(true);
      expect(shouldRetry(2, e)).toBe(false);
    }
  });

  it("does not retry a 429 that asks for a longer wait than a retry would make", () => {
    expect(shouldRetry(0, error(429, 10))).toBe(true);
    expect(shouldRetry(0, error(429, 30))).toBe(false);
  });

  it("waits Retry-After (capped) or backs off", () => {
    expect(retryDelay(0, error(503, 3))).toBe(3000);
    expect(retryDelay(0, error(503, 120))).toBe(10_000);
    expect(retryDelay(0, error(null))).toBe(500);
    expect(retryDelay(1, error(null))).toBe(1000);
    expect(retryDelay(5, error(null))).toBe(4000);
  });
});
