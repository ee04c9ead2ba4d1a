import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import type { Contact } from "../api/client";
import { ContactsTable } from "./ContactsTable";

const contact = (id: string, first: string, last: string, encounters: number, closest: number): Contact => ({
  person: { id, first_name: first, last_name: last, company_name: `${last} Ltd` },
  encounters,
  first_seen: "2026-06-02T10:01:16.449000Z",
  last_seen: "2026-06-02T16:59:54.088000Z",
  closest_distance_m: closest,
});

const contacts = [contact("1", "Alejandro", "Quinn", 126, 0.18), contact("2", "Aisha", "Patel", 111, 0.05), contact("3", "Zoe", "Lee", 3, 2.2)];

function names() {
  return screen
    .getAllByRole("row")
    .slice(1)
    .map((row) => within(row).getAllByRole("rowheader")[0]!.textContent?.replace(/^[A-Z]{2}/, ""));
}

function renderTable() {
  render(
    <MemoryRouter>
      <ContactsTable contacts={contacts} caption="People Ravi met" />
    </MemoryRouter>,
  );
}

describe("ContactsTable", () => {
  it("shows one row per person with a link, times in UTC and distances", () => {
    renderTable();
    expect(names()).toEqual(["Alejandro Quinn", "Aisha Patel", "Zoe Lee"]);
    const first = screen.getAllByRole("row")[1]!;
    expect(within(first).getByRole("link").getAttribute("href")).toBe("/persons/1");
    expect(first.textContent).toContain("2026-06-02 10:01 UTC");
    expect(first.textContent).toContain("0.2 m");
    expect(screen.getAllByRole("row")[2]!.textContent).toContain("< 0.1 m");
  });

  it("sorts by a column's header button and says so with aria-sort", () => {
    renderTable();
    const encounters = screen.getByRole("columnheader", { name: /Encounters/ });
    expect(encounters.getAttribute("aria-sort")).toBe("descending");

    fireEvent.click(screen.getByRole("button", { name: /Name/ }));
    expect(names()).toEqual(["Aisha Patel", "Alejandro Quinn", "Zoe Lee"]);
    expect(screen.getByRole("columnheader", { name: /Name/ }).getAttribute("aria-sort")).toBe("ascending");
    expect(encounters.getAttribute("aria-sort")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: /Name/ }));
    expect(names()).toEqual(["Zoe Lee", "Alejandro Quinn", "Aisha Patel"]);
    expect(screen.getByRole("columnheader", { name: /Name/ }).getAttribute("aria-sort")).toBe("descending");

    fireEvent.click(screen.getByRole("button", { name: /Closest/ }));
    expect(names()).toEqual(["Aisha Patel", "Alejandro Quinn", "Zoe Lee"]);
  });

  it("has real buttons in the headers, so the keyboard can sort", () => {
    renderTable();
    const buttons = within(screen.getAllByRole("row")[0]!).getAllByRole("button");
    expect(buttons.map((b) => b.textContent)).toEqual(["Name", "Company", "Encounters", "First seen", "Last seen", "Closest"]);
    for (const button of buttons) expect(button.tagName).toBe("BUTTON");
  });
});
