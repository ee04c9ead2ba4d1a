import { act, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, errorFromResponse } from "../api/errors";
import { STORAGE_KEY } from "../auth/session";
import type { RuntimeConfig } from "../config";
import { PeoplePage } from "../pages/PeoplePage";
import { fakeFetch, json, TEST_CONFIG } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { Layout } from "./Layout";
import { ErrorMessage } from "./StatusViews";

const CONFIG: RuntimeConfig = {
  ...TEST_CONFIG,
  identities: [
    { name: "Organizer", role: "organizer", personId: null, token: "organizer.token.sig" },
    { name: "Ada Lovelace (attendee)", role: "attendee", personId: "p1", token: "attendee.token.sig" },
  ],
};
const noFetch = async (): Promise<Response> => json([]);

afterEach(() => vi.useRealTimers());

describe("ErrorMessage", () => {
  it("after a 401 says the sign-in was refused and opens the identity control instead of a Retry", async () => {
    let refuse = true;
    const { fetch } = fakeFetch(() =>
      refuse
        ? json({ type: "about:blank", title: "Unauthorized", status: 401, detail: "the token has expired" }, { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } })
        : json([{ id: "p1", first_name: "Ada", last_name: "Lovelace", company_name: "Engines" }]),
    );
    renderWithApp(
      <Layout>
        <PeoplePage />
      </Layout>,
      { fetch, config: CONFIG },
    );
    const error = await screen.findByTestId("error-message");
    expect(error.getAttribute("data-kind")).toBe("unauthorized");
    expect(within(error).getByText("Sign-in refused")).toBeTruthy();
    expect(error.textContent).toContain("Your sign-in was refused (missing, expired or invalid token). Choose who you are again.");
    expect(error.textContent).toContain("The person service said: the token has expired.");
    expect(within(error).queryByRole("button", { name: "Retry" })).toBeNull();

    fireEvent.click(within(error).getByRole("button", { name: "Choose who you are" }));
    const panel = screen.getByRole("group", { name: "Who are you?" });
    expect(panel.contains(document.activeElement)).toBe(true);
    // Choosing again, even the same identity, asks again.
    refuse = false;
    fireEvent.click(within(panel).getByRole("button", { name: "Organizer (current)" }));
    expect(await screen.findByRole("link", { name: /Ada Lovelace/ })).toBeTruthy();
    expect(screen.queryByTestId("error-message")).toBeNull();
  });

  it("after a 403 says who is signed in, without a Retry", () => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ kind: "identity", name: "Ada Lovelace (attendee)" }));
    const error = errorFromResponse("connection", new Response(null, { status: 403 }), {
      title: "Forbidden",
      status: 403,
      detail: "attendees may only read their own connections",
    });
    renderWithApp(<ErrorMessage error={error} onRetry={() => undefined} />, { fetch: noFetch, config: CONFIG });
    const box = screen.getByTestId("error-message");
    expect(box.getAttribute("data-kind")).toBe("forbidden");
    expect(within(box).getByText("You may not see this")).toBeTruthy();
    expect(box.textContent).toContain("attendees may only read their own connections. You are signed in as Ada Lovelace (attendee).");
    expect(within(box).queryByRole("button")).toBeNull();
  });

  it("after a 429 counts Retry-After down, and allows Retry once it has passed", () => {
    vi.useFakeTimers();
    const error = new ApiError({ service: "person", status: 429, title: "Too many requests", retryAfterSeconds: 3 });
    const onRetry = vi.fn();
    renderWithApp(<ErrorMessage error={error} onRetry={onRetry} />, { fetch: noFetch, config: CONFIG });
    const box = screen.getByTestId("error-message");
    expect(box.textContent).toContain("Person service: rate limit reached");
    expect(box.textContent).toContain("Too many requests, try again in 3 s.");
    const retry = within(box).getByRole("button", { name: "Retry" }) as HTMLButtonElement;
    expect(retry.disabled).toBe(true);
    act(() => vi.advanceTimersByTime(1000));
    expect(box.textContent).toContain("Too many requests, try again in 2 s.");
    act(() => vi.advanceTimersByTime(2000));
    expect(box.textContent).toContain("you can try again now");
    expect(retry.disabled).toBe(false);
    fireEvent.click(retry);
    expect(onRetry).toHaveBeenCalledOnce();
  });

  it("keeps a section's own title for other failures", () => {
    const error = errorFromResponse("connection", new Response(null, { status: 500 }), undefined);
    renderWithApp(<ErrorMessage error={error} title="Where they met others could not be loaded" />, { fetch: noFetch });
    expect(screen.getByText("Where they met others could not be loaded")).toBeTruthy();
  });
});
