import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeFetch, json, problem } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { AddPersonForm } from "./AddPersonForm";
import { PendingPeople } from "./PendingPeople";

const fast = { initialDelayMs: 5, factor: 1, maxDelayMs: 5, timeoutMs: 2000 };

function fill(first: string, last: string, company: string) {
  fireEvent.change(screen.getByLabelText(/First name/), { target: { value: first } });
  fireEvent.change(screen.getByLabelText(/Last name/), { target: { value: last } });
  fireEvent.change(screen.getByLabelText(/Company/), { target: { value: company } });
}

function submit() {
  fireEvent.click(screen.getByRole("button", { name: "Add person" }));
}

describe("AddPersonForm", () => {
  it("checks required fields before sending anything", async () => {
    const { fetch, calls } = fakeFetch(() => json({}));
    renderWithApp(<AddPersonForm />, { fetch });
    fill("Ada", "  ", "");
    submit();
    expect(await screen.findByText("Last name is required.")).toBeTruthy();
    expect(screen.getByText("Company is required.")).toBeTruthy();
    expect(screen.getByLabelText(/Last name/).getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText(/First name/).getAttribute("aria-invalid")).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText(/Last name/));
    expect(calls).toHaveLength(0);
  });

  it("shows a server 422 by its field", async () => {
    const { fetch } = fakeFetch(() =>
      problem(422, "Invalid request", "body.company_name: String should have at most 100 characters", [
        { loc: ["body", "company_name"], msg: "String should have at most 100 characters", type: "string_too_long" },
      ]),
    );
    renderWithApp(<AddPersonForm />, { fetch });
    fill("Ada", "Lovelace", "Analytical Engines");
    submit();
    const message = await screen.findByText("String should have at most 100 characters");
    const company = screen.getByLabelText(/Company/);
    expect(company.getAttribute("aria-invalid")).toBe("true");
    expect(company.getAttribute("aria-describedby")).toBe(message.id);
    expect(screen.queryByTestId("error-message")).toBeNull();
  });

  it("shows other failures with their detail, and retries with the same Idempotency-Key", async () => {
    let fail = true;
    const { fetch, calls } = fakeFetch(({ method, url }) => {
      if (method === "POST") {
        if (fail) return json({ type: "about:blank", title: "Service unavailable", status: 503, detail: "The message broker is unavailable." }, { status: 503 });
        return json({ id: "p9", first_name: "Ada", last_name: "Lovelace", company_name: "Engines" }, { status: 202 });
      }
      if (url.pathname === "/api/persons/p9") return json({ id: "p9", first_name: "Ada", last_name: "Lovelace", company_name: "Engines" });
      return json([]);
    });
    renderWithApp(
      <>
        <AddPersonForm />
        <PendingPeople />
      </>,
      { fetch, pollOptions: fast },
    );
    fill("Ada", "Lovelace", "Engines");
    submit();
    const error = await screen.findByTestId("error-message");
    expect(error.textContent).toContain("The message broker is unavailable.");
    expect(error.textContent).toContain("Person service");

    fail = false;
    submit();
    await screen.findByTestId("pending-person");
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers.get("Idempotency-Key")).toBeTruthy();
    expect(posts[1]!.headers.get("Idempotency-Key")).toBe(posts[0]!.headers.get("Idempotency-Key"));
  });

  it("shows the new person as pending until it can be read back, then as stored", async () => {
    let reads = 0;
    const person = { id: "p1", first_name: "Grace", last_name: "Hopper", company_name: "Compiler Works" };
    const { fetch } = fakeFetch(({ method, url }) => {
      if (method === "POST") return json(person, { status: 202 });
      if (url.pathname === "/api/persons/p1") return ++reads < 3 ? problem(404, "Not found", "No person with id p1.") : json(person);
      return json([]);
    });
    renderWithApp(
      <>
        <AddPersonForm />
        <PendingPeople />
      </>,
      { fetch, pollOptions: fast },
    );
    fill(" Grace ", "Hopper", "Compiler Works");
    submit();
    const item = await screen.findByTestId("pending-person");
    expect(item.getAttribute("data-status")).toBe("pending");
    expect(within(item).getByRole("status").textContent).toMatch(/Pending/);
    // The form is cleared for the next person.
    expect((screen.getByLabelText(/First name/) as HTMLInputElement).value).toBe("");
    await waitFor(() => expect(item.getAttribute("data-status")).toBe("stored"));
    expect(within(item).getByRole("status").textContent).toMatch(/Stored/);
    expect(within(item).getByRole("link", { name: "Grace Hopper" }).getAttribute("href")).toBe("/persons/p1");
    expect(reads).toBe(3);
  });

  it("says why when the person is never readable", async () => {
    const person = { id: "p2", first_name: "Alan", last_name: "Turing", company_name: "Bletchley" };
    const { fetch } = fakeFetch(({ method }) => (method === "POST" ? json(person, { status: 202 }) : problem(404, "Not found")));
    renderWithApp(
      <>
        <AddPersonForm />
        <PendingPeople />
      </>,
      { fetch, pollOptions: { ...fast, timeoutMs: 60 } },
    );
    fill("Alan", "Turing", "Bletchley");
    submit();
    const item = await screen.findByTestId("pending-person");
    await waitFor(() => expect(item.getAttribute("data-status")).toBe("failed"));
    expect(item.textContent).toMatch(/still not stored/);
    expect(within(item).getByRole("button", { name: "Check again" })).toBeTruthy();
  });

  it("says how long to wait after a 429", async () => {
    const { fetch } = fakeFetch(() =>
      json({ type: "about:blank", title: "Too many requests", status: 429, detail: "At most 60 per 1 minute writes per token subject; retry in 30 s." }, { status: 429, headers: { "Retry-After": "30" } }),
    );
    renderWithApp(<AddPersonForm />, { fetch });
    fill("Ada", "Lovelace", "Engines");
    submit();
    const error = await screen.findByTestId("error-message");
    expect(error.textContent).toContain("Too many requests, try again in 30 s.");
    // What was typed stays, to send once the wait is over.
    expect((screen.getByLabelText(/Last name/) as HTMLInputElement).value).toBe("Lovelace");
  });

  it("shows a 403 clearly when the form was sent by someone who may not add people", async () => {
    const { fetch } = fakeFetch(() => problem(403, "Forbidden", "only organizers may create persons (signed in as attendee p1)"));
    renderWithApp(<AddPersonForm />, { fetch });
    fill("Ada", "Lovelace", "Engines");
    submit();
    const error = await screen.findByTestId("error-message");
    expect(within(error).getByText("You may not add people")).toBeTruthy();
    expect(error.textContent).toContain("only organizers may create persons");
  });
});
