import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { STORAGE_KEY } from "../auth/session";
import type { RuntimeConfig } from "../config";
import { PeoplePage } from "../pages/PeoplePage";
import { fakeFetch, json, TEST_CONFIG } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { Layout } from "./Layout";

const ada = { id: "p1", first_name: "Ada", last_name: "Lovelace", company_name: "Engines" };
const CONFIG: RuntimeConfig = {
  ...TEST_CONFIG,
  identities: [
    { name: "Organizer", role: "organizer", personId: null, token: "organizer.token.sig" },
    { name: "Ada Lovelace (attendee)", role: "attendee", personId: "p1", token: "attendee.token.sig" },
  ],
};

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "");
  return `${part({ alg: "ES256" })}.${part(claims)}.sig`;
}

function renderPeople(config: RuntimeConfig = CONFIG) {
  const backend = fakeFetch(() => json([ada]));
  const view = renderWithApp(
    <Layout>
      <PeoplePage />
    </Layout>,
    { fetch: backend.fetch, config },
  );
  return { ...backend, ...view };
}

const toggle = () => screen.getByTestId("identity-toggle");
const authorizations = (calls: { headers: Headers }[]) => calls.map((c) => c.headers.get("Authorization"));

function open() {
  fireEvent.click(toggle());
  return screen.getByRole("group", { name: "Who are you?" });
}

describe("who are you", () => {
  it("starts as the first configured identity and sends its token", async () => {
    const { calls } = renderPeople();
    expect(screen.getByRole("button", { name: "Signed in as Organizer" })).toBe(toggle());
    expect(toggle().getAttribute("aria-expanded")).toBe("false");
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    expect(authorizations(calls)).toEqual(["Bearer organizer.token.sig"]);
    // An organizer has no page of their own.
    expect(screen.queryByRole("link", { name: "My connections" })).toBeNull();
  });

  it("switches to another identity: fetched again with its token, kept in sessionStorage, and a way to their own page", async () => {
    const { calls } = renderPeople();
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    const panel = open();
    expect(toggle().getAttribute("aria-expanded")).toBe("true");
    // Focus goes to the current choice.
    expect(document.activeElement).toBe(within(panel).getByRole("button", { name: "Organizer (current)" }));
    fireEvent.click(within(panel).getByRole("button", { name: "Ada Lovelace (attendee)" }));

    expect(screen.queryByRole("group", { name: "Who are you?" })).toBeNull();
    expect(document.activeElement).toBe(toggle());
    expect(toggle().textContent).toContain("Ada Lovelace (attendee)");
    expect(screen.getByRole("link", { name: "My connections" }).getAttribute("href")).toBe("/persons/p1");
    await waitFor(() => expect(authorizations(calls)).toEqual(["Bearer organizer.token.sig", "Bearer attendee.token.sig"]));
    expect(JSON.parse(sessionStorage.getItem(STORAGE_KEY)!)).toEqual({ kind: "identity", name: "Ada Lovelace (attendee)" });
    // Adding people is for organizers: said, rather than a form that would be refused.
    expect(screen.queryByTestId("add-person-form")).toBeNull();
    expect(screen.getByTestId("add-person-organizers-only").textContent).toContain("Only organizers can add people");
  });

  it("keeps the choice across a reload (a new mount reading sessionStorage)", async () => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ kind: "identity", name: "Ada Lovelace (attendee)" }));
    const { calls } = renderPeople();
    expect(toggle().textContent).toContain("Ada Lovelace (attendee)");
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    expect(authorizations(calls)).toEqual(["Bearer attendee.token.sig"]);
  });

  it("signs out: no token is sent, and a reload stays signed out", async () => {
    const first = renderPeople();
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    fireEvent.click(within(open()).getByRole("button", { name: "Sign out" }));
    expect(screen.getByRole("button", { name: "Not signed in Choose who you are" })).toBe(toggle());
    await waitFor(() => expect(first.calls).toHaveLength(2));
    expect(first.calls[1]!.headers.has("Authorization")).toBe(false);
    first.unmount();

    const again = renderPeople();
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    expect(toggle().textContent).toContain("Not signed in");
    expect(again.calls[0]!.headers.has("Authorization")).toBe(false);
  });

  it("uses a pasted token, saying whose it is from its claims", async () => {
    const token = jwt({ sub: "p1", roles: ["attendee"], name: "Ada L." });
    const { calls } = renderPeople();
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    const panel = open();
    fireEvent.click(within(panel).getByRole("button", { name: "Use a token…" }));
    const input = within(panel).getByLabelText("Bearer token");
    expect(document.activeElement).toBe(input);
    expect(input.getAttribute("type")).toBe("password");

    fireEvent.click(within(panel).getByRole("button", { name: "Use this token" }));
    expect(within(panel).getByText("Paste a token first.")).toBeTruthy();
    expect(input.getAttribute("aria-invalid")).toBe("true");

    fireEvent.change(input, { target: { value: `Bearer ${token}` } });
    fireEvent.click(within(panel).getByRole("button", { name: "Use this token" }));
    expect(toggle().textContent).toContain("Ada L. (attendee)");
    expect(screen.getByRole("link", { name: "My connections" }).getAttribute("href")).toBe("/persons/p1");
    await waitFor(() => expect(authorizations(calls).at(-1)).toBe(`Bearer ${token}`));
    expect(JSON.parse(sessionStorage.getItem(STORAGE_KEY)!)).toEqual({ kind: "token", token });
  });

  it("closes on Escape, giving focus back to its button; cancelling the token form returns to its button", () => {
    renderPeople();
    const panel = open();
    fireEvent.click(within(panel).getByRole("button", { name: "Use a token…" }));
    fireEvent.click(within(panel).getByRole("button", { name: "Cancel" }));
    expect(document.activeElement).toBe(within(panel).getByRole("button", { name: "Use a token…" }));
    fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByRole("group", { name: "Who are you?" })).toBeNull();
    expect(document.activeElement).toBe(toggle());
  });

  it("closes on a click elsewhere", () => {
    renderPeople();
    open();
    act(() => {
      document.body.dispatchEvent(new Event("pointerdown", { bubbles: true }));
    });
    expect(screen.queryByRole("group", { name: "Who are you?" })).toBeNull();
  });

  it("without configured identities (production) starts signed out and asks for a token at once", async () => {
    const { calls } = renderPeople(TEST_CONFIG);
    expect(toggle().textContent).toContain("Not signed in");
    await screen.findByRole("link", { name: /Ada Lovelace/ });
    expect(calls[0]!.headers.has("Authorization")).toBe(false);
    const panel = open();
    expect(document.activeElement).toBe(within(panel).getByLabelText("Bearer token"));
    expect(within(panel).queryByRole("button", { name: "Sign out" })).toBeNull();
    expect(within(panel).queryByRole("button", { name: "Cancel" })).toBeNull();
  });

  it("forgets, and stops polling for, the people the previous identity was waiting for", async () => {
    const grace = { id: "p9", first_name: "Grace", last_name: "Hopper", company_name: "Compilers" };
    const backend = fakeFetch(({ method, url }) => {
      if (method === "POST") return json(grace, { status: 202 });
      if (url.pathname === "/api/persons/p9") return json({ title: "Not found", status: 404 }, { status: 404 });
      return json([ada]);
    });
    renderWithApp(
      <Layout>
        <PeoplePage />
      </Layout>,
      { fetch: backend.fetch, config: CONFIG, pollOptions: { initialDelayMs: 5, factor: 1, maxDelayMs: 5, timeoutMs: 5000 } },
    );
    fireEvent.change(screen.getByLabelText(/First name/), { target: { value: "Grace" } });
    fireEvent.change(screen.getByLabelText(/Last name/), { target: { value: "Hopper" } });
    fireEvent.change(screen.getByLabelText(/Company/), { target: { value: "Compilers" } });
    fireEvent.click(screen.getByRole("button", { name: "Add person" }));
    await screen.findByTestId("pending-person");

    fireEvent.click(within(open()).getByRole("button", { name: "Ada Lovelace (attendee)" }));
    expect(screen.queryByTestId("pending-person")).toBeNull();
    const polls = () => backend.calls.filter((c) => c.url.pathname === "/api/persons/p9").length;
    const before = polls();
    await act(async () => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(polls()).toBe(before);
  });
});
