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
    expect(describeError(error)).toEqual({ title: "Connection service: Invalid request", detail: "distance: too big" });
  });

  it("uses the network error's own title", () => {
    const error = new ApiError({ service: "location", status: null, title: "Location service unreachable", detail: "Cannot reach …" });
    expect(describeError(error).title).toBe("Location service unreachable");
  });

  it("handles plain errors and other values", () => {
    expect(describeError(new Error("boom"))).toEqual({ title: "Something went wrong", detail: "boom" });
    expect(describeError(42).detail).toBe("42");
  });
});

describe("isAbortError", () => {
  it("recognises aborts", () => {
    expect(isAbortError(new DOMException("aborted", "AbortError"))).toBe(true);
    expect(isAbortError(new Error("x"))).toBe(false);
  });
});
