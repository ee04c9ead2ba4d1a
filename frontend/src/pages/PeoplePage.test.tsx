import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeFetch, json } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { PeoplePage } from "./PeoplePage";

const person = (i: number) => ({ id: `id-${i}`, first_name: `First${i}`, last_name: `Last${i}`, company_name: `Company ${i}` });

describe("PeoplePage", () => {
  it("lists people and follows the next link with Load more", async () => {
    const { fetch, calls } = fakeFetch(({ url }) =>
      url.searchParams.get("cursor") === "P2"
        ? json([person(3)])
        : json([person(1), person(2)], { headers: { Link: '<http://person.test/api/persons?limit=30&cursor=P2>; rel="next"' } }),
    );
    renderWithApp(<PeoplePage />, { fetch });
    const list = screen.getByTestId("people-list");
    expect(within(list).getByRole("status", { name: "Loading people" })).toBeTruthy();
    const link = await within(list).findByRole("link", { name: /First1 Last1/ });
    expect(link.getAttribute("href")).toBe("/persons/id-1");
    fireEvent.click(within(list).getByRole("button", { name: "Load more people" }));
    await within(list).findByRole("link", { name: /First3 Last3/ });
    expect(within(list).queryByRole("button", { name: "Load more people" })).toBeNull();
    expect(within(list).getByText("All 3 people")).toBeTruthy();
    expect(calls.map((c) => c.url.searchParams.get("cursor"))).toEqual([null, "P2"]);
    expect(calls[1]!.url.searchParams.get("limit")).toBe("30");
  });

  it("searches after typing stops and keeps the search in the URL", async () => {
    const { fetch, calls } = fakeFetch(({ url }) => json(url.searchParams.get("q") === "alv" ? [person(7)] : [person(1)]));
    renderWithApp(<PeoplePage />, { fetch });
    await screen.findByRole("link", { name: /First1/ });
    fireEvent.change(screen.getByTestId("people-search"), { target: { value: "a" } });
    fireEvent.change(screen.getByTestId("people-search"), { target: { value: "alv" } });
    await screen.findByRole("link", { name: /First7/ });
    expect(screen.getByTestId("location").textContent).toBe("/?q=alv");
    // Debounced: no request for the intermediate "a".
    expect(calls.map((c) => c.url.searchParams.get("q"))).toEqual([null, "alv"]);
  });

  it("starts from ?q= in the URL and says when nobody matches", async () => {
    const { fetch } = fakeFetch(() => json([]));
    renderWithApp(<PeoplePage />, { fetch, route: "/?q=zzz" });
    expect((screen.getByTestId("people-search") as HTMLInputElement).value).toBe("zzz");
    expect(await screen.findByText(/No one matches “zzz”/)).toBeTruthy();
  });

  it("shows an unreachable person service with a Retry that works", async () => {
    let down = true;
    const { fetch } = fakeFetch(() => {
      if (down) throw new TypeError("Failed to fetch");
      return json([person(1)]);
    });
    renderWithApp(<PeoplePage />, { fetch });
    const error = await screen.findByTestId("error-message", {}, { timeout: 3000 });
    expect(error.textContent).toContain("Person service unreachable");
    expect(error.textContent).toContain("http://person.test");
    down = false;
    fireEvent.click(within(error).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.getByRole("link", { name: /First1/ })).toBeTruthy());
  });
});
