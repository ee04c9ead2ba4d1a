import { describe, expect, it } from "vitest";
import { ApiError, describeError, errorFromResponse, fieldErrorsOf, isAbortError, retryAfterSeconds } from "./errors";

describe("fieldErrorsOf", () => {
  it("maps a 422's errors to fields by the last part of loc", () => {
    const problem = {
      errors: [
        { loc: ["body", "first_name"], msg: "String should have at least 1 character", type: "string_too_short" },
        { loc: ["query", "distance"], msg: "Input should be greater than 0" },
        { loc: ["body", "locations", 3, "latitude"], msg: "Input should be less than or equal to 90" },
        { loc: ["body"], msg: "Field required" },
        { msg: "no location" },
        "not an object",
        { loc: ["body", "x"] },
      ],
    };
    expect(fieldErrorsOf(problem)).toEqual([
      { field: "first_name", message: "String should have at least 1 character" },
      { field: "distance", message: "Input should be greater than 0" },
      { field: "latitude", message: "Input should be less than or equal to 90" },
      { field: "", message: "Field required" },
      { field: "", message: "no location" },
    ]);
  });

  it("is empty for anything else", () => {
    expect(fieldErrorsOf(undefined)).toEqual([]);
    expect(fieldErrorsOf("text")).toEqual([]);
    expect(fieldErrorsOf({ errors: null })).toEqual([]);
  });
});

describe("retryAfterSeconds", () => {
  it("reads seconds and HTTP dates", () => {
    expect(retryAfterSeconds("5")).toBe(5);
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(retryAfterSeconds("soon")).toBeUndefined();
    const now = Date.parse("2026-06-01T10:00:00Z");
    expect(retryAfterSeconds("Mon, 01 Jun 2026 10:00:30 GMT", now)).toBe(30);
  });
});

describe("errorFromResponse", () => {
  it("takes title and detail from the problem", () => {
    const response = new Response(null, { status: 404 });
    const error = errorFromResponse("connection", response, { title: "Not found", status: 404, detail: "No person with id x." });
    expect(error).toMatchObject({ service: "connection", status: 404, title: "Not found", detail: "No person with id x." });
    expect(error.isNotFound).toBe(true);
    expect(error.isClientError).toBe(true);
  });

  it("says the service is unavailable on a bare 503", () => {
    const error = errorFromResponse("location", new Response(null, { status: 503, headers: { "Retry-After": "3" } }), "");
    expect(error.detail).toBe("The location service is temporarily unavailable. Try again in 3 s.");
    expect(error.isClientError).toBe(false);
  });

  it("does not count 408 and 429 as client errors (they are worth retrying)", () => {
    expect(errorFromResponse("person", new Response(null, { status: 429 }), undefined).isClientError).toBe(false);
    expect(errorFromResponse("person", new Response(null, { status: 408 }), undefined).isClientError).toBe(false);
  });
});

describe("describeError", () => {
  it("gives a title naming the service and the detail", () => {
    const error = new ApiError({ service: "connection", status: 422, title: "Invalid request", detail: "distance: too big" });
    expect(describeError(error)).toEqual({ kind: "other", title: "Connection service: Invalid request", detail: "distance: too big" });
  });

  it("uses the network error's own title", () => {
    const error = new ApiError({ service: "location", status: null, title: "Location service unreachable", detail: "Cannot reach …" });
    expect(describeError(error).title).toBe("Location service unreachable");
  });

  it("handles plain errors and other values", () => {
    expect(describeError(new Error("boom"))).toEqual({ kind: "other", title: "Something went wrong", detail: "boom" });
    expect(describeError(42).detail).toBe("42");
  });
});

describe("describeError for access and rate limits", () => {
  const problemOf = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    errorFromResponse("connection", new Response(null, { status, headers }), body);

  it("asks to sign in again after a 401, with the service's reason", () => {
    const error = problemOf(401, { title: "Unauthorized", status: 401, detail: "the token has expired" });
    expect(error.isUnauthorized).toBe(true);
    expect(describeError(error, { signedInAs: "Organizer" })).toEqual({
      kind: "unauthorized",
      title: "Sign-in refused",
      detail: "Your sign-in was refused (missing, expired or invalid token). Choose who you are again. The connection service said: the token has expired.",
    });
    expect(describeError(error, { signedInAs: null })).toMatchObject({ kind: "unauthorized", title: "Not signed in" });
  });

  it("says a 403 is not allowed, why, and as whom", () => {
    const error = problemOf(403, { title: "Forbidden", status: 403, detail: "attendees may only read their own connections" });
    expect(error.isForbidden).toBe(true);
    expect(describeError(error, { signedInAs: "Ada Lovelace (attendee)" })).toEqual({
      kind: "forbidden",
      title: "You may not see this",
      detail: "attendees may only read their own connections. You are signed in as Ada Lovelace (attendee).",
    });
  });

  it("counts a 429's Retry-After down", () => {
    const error = new ApiError({ service: "person", status: 429, title: "Too many requests", retryAfterSeconds: 12, receivedAt: 1_000_000 });
    expect(error.isRateLimited).toBe(true);
    expect(error.isClientError).toBe(false);
    expect(describeError(error, { now: 1_000_000 })).toEqual({
      kind: "rate-limited",
      title: "Person service: rate limit reached",
      detail: "Too many requests, try again in 12 s.",
    });
    expect(describeError(error, { now: 1_010_500 }).detail).toBe("Too many requests, try again in 2 s.");
    expect(describeError(error, { now: 1_013_000 }).detail).toBe("Too many requests a moment ago; you can try again now.");
    expect(describeError(problemOf(429, undefined)).detail).toBe("Too many requests, try again in a moment.");
    expect(problemOf(429, undefined, { "Retry-After": "7" }).retryAfterSeconds).toBe(7);
  });
});

describe("isAbortError", () => {
  it("recognises aborts", () => {
    expect(isAbortError(new DOMException("aborted", "AbortError"))).toBe(true);
    expect(isAbortError(new Error("x"))).toBe(false);
  });
});
