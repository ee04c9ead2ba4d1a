import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { STORAGE_KEY } from "../auth/session";
import type { RuntimeConfig } from "../config";
import { fakeFetch, json, problem, TEST_CONFIG, type Recorded } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { PersonRoute } from "./PersonRoute";

// Leaflet needs a real browser (canvas, layout); the map is checked in Chromium. Here a stand-in
// records what the page hands it.
vi.mock("../components/PersonMap", () => ({
  default: (props: { ownPings?: unknown[]; metPings: unknown[] }) => (
    <p data-testid="map-stub">
      own {props.ownPings ? props.ownPings.length : "loading"}, met {props.metPings.length}
    </p>
  ),
}));

const ravi = { id: "p1", first_name: "Ravi", last_name: "Abara", company_name: "Willow Education" };
const maya = { id: "p2", first_name: "Maya", last_name: "Varga", company_name: "Northwind" };

const contacts = [
  { person: maya, encounters: 12, first_seen: "2026-06-01T10:00:00Z", last_seen: "2026-06-01T11:00:00Z", closest_distance_m: 0.4 },
];
const feature = (id: string, time: string) => ({
  type: "Feature",
  id,
  geometry: { type: "Point", coordinates: [-122.401, 37.784] },
  properties: { person_id: "p2", creation_time: time, person: maya },
});

function backend(overrides: { contacts?: (r: Recorded) => Response; connection?: (r: Recorded) => Response } = {}) {
  return fakeFetch((request) => {
    const { url } = request;
    if (url.host === "person.test") return json(ravi);
    if (url.host === "location.test")
      return json({ type: "FeatureCollection", features: [feature("own1", "2026-06-01T10:00:00Z")] }, { headers: { "Content-Type": "application/geo+json" } });
    if (url.pathname.endsWith("/contacts")) return overrides.contacts ? overrides.contacts(request) : json(contacts);
    if (url.pathname.endsWith("/connection"))
      return overrides.connection
        ? overrides.connection(request)
        : json({ type: "FeatureCollection", features: [feature("c1", "2026-06-01T10:00:05Z"), feature("c2", "2026-06-01T10:30:00Z")] }, { headers: { "Content-Type": "application/geo+json" } });
    return problem(404, "Not found");
  });
}

function renderPerson(route: string, fetch: (r: Request) => Promise<Response>, config?: RuntimeConfig) {
  return renderWithApp(
    <Routes>
      <Route path="/persons/:id" element={<PersonRoute />} />
    </Routes>,
    { fetch, route, ...(config && { config }) },
  );
}

afterEach(() => performance.clearMarks());

describe("a person's page", () => {
  it("writes the defaults into the URL and shows contacts, connections and the timeline", async () => {
    const { fetch, calls } = backend();
    renderPerson("/persons/p1", fetch);
    await waitFor(() => expect(screen.getByTestId("location").textContent).toBe("/persons/p1?start=2026-06-01&end=2026-06-02&distance=5&window=5"));
    expect(await screen.findByRole("heading", { level: 1, name: "Ravi Abara" })).toBeTruthy();

    const table = screen.getByTestId("contacts-table");
    const link = await within(table).findByRole("link", { name: /Maya Varga/ });
    expect(link.getAttribute("href")).toBe("/persons/p2");
    await waitFor(() => expect(performance.getEntriesByName("udaconnect:contacts-drawn")).toHaveLength(1));

    const connections = screen.getByTestId("connections-list");
    expect(await within(connections).findByText("2026-06-01 10:00:05 UTC")).toBeTruthy();
    expect(within(connections).getAllByText("37.784000")).toHaveLength(2);

    const timeline = screen.getByTestId("timeline");
    expect(within(timeline).getByRole("img", { name: /When Ravi Abara met/ })).toBeTruthy();
    expect(await screen.findByText("own 1, met 2")).toBeTruthy();

    const contactCalls = calls.filter((c) => c.url.pathname.endsWith("/contacts"));
    expect(Object.fromEntries(contactCalls[0]!.url.searchParams)).toMatchObject({ start_date: "2026-06-01", end_date: "2026-06-02", distance: "5", window: "5" });
  });

  it("says so when there are no contacts, and still marks contacts as drawn", async () => {
    const { fetch } = backend({ contacts: () => json([]), connection: () => json({ type: "FeatureCollection", features: [] }) });
    renderPerson("/persons/p1?start=2026-06-01&end=2026-06-01&distance=1&window=none", fetch);
    expect(await screen.findByText("No contacts in this range — try a larger distance or no window.")).toBeTruthy();
    await waitFor(() => expect(performance.getEntriesByName("udaconnect:contacts-drawn")).toHaveLength(1));
  });

  it("keeps working when the connection service is down", async () => {
    const { fetch } = backend({
      contacts: () => {
        throw new TypeError("Failed to fetch");
      },
      connection: () => {
        throw new TypeError("Failed to fetch");
      },
    });
    renderPerson("/persons/p1", fetch);
    const table = screen.getByTestId("contacts-table");
    const error = await within(table).findByTestId("error-message", {}, { timeout: 3000 });
    expect(error.textContent).toContain("Connection service unreachable");
    expect(within(error).getByRole("button", { name: "Retry" })).toBeTruthy();
    // The person and the map's own pings come from the other services.
    expect(screen.getByRole("heading", { level: 1, name: "Ravi Abara" })).toBeTruthy();
    expect(await screen.findByText(/own 1/)).toBeTruthy();
  });

  it("shows the API's detail for a 422", async () => {
    const detail =
      "Counting these contacts needs more than the 900 ms of database time a request may use: ask for a shorter range (such as one day), a window, or a smaller distance.";
    const { fetch } = backend({ contacts: () => problem(422, "Query too costly", detail) });
    renderPerson("/persons/p1", fetch);
    expect(await screen.findByText(detail)).toBeTruthy();
  });

  it("refuses an end before the start without asking the APIs", async () => {
    const { fetch, calls } = backend();
    renderPerson("/persons/p1?start=2026-06-02&end=2026-06-01&distance=5&window=5", fetch);
    expect(await screen.findByText("The end date is before the start date.")).toBeTruthy();
    await act(async () => new Promise((r) => setTimeout(r, 50)));
    expect(calls.filter((c) => c.url.host !== "person.test")).toHaveLength(0);
  });

  it("applies new values to the URL", async () => {
    const { fetch, calls } = backend();
    renderPerson("/persons/p1?start=2026-06-01&end=2026-06-02&distance=5&window=5", fetch);
    await screen.findByRole("heading", { level: 1, name: "Ravi Abara" });
    fireEvent.change(screen.getByLabelText("Distance (metres)"), { target: { value: "12" } });
    fireEvent.click(screen.getByLabelText(/No window/));
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(screen.getByTestId("location").textContent).toBe("/persons/p1?start=2026-06-01&end=2026-06-02&distance=12&window=none"));
    await waitFor(() => expect(calls.some((c) => c.url.pathname.endsWith("/contacts") && c.url.searchParams.get("distance") === "12" && !c.url.searchParams.has("window"))).toBe(true));
  });

  it("shows an attendee one refusal for someone else's page, with a way to their own", async () => {
    const config: RuntimeConfig = {
      ...TEST_CONFIG,
      identities: [{ name: "Maya Varga (attendee)", role: "attendee", personId: "p2", token: "maya.token.sig" }],
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ kind: "identity", name: "Maya Varga (attendee)" }));
    const forbidden = () => problem(403, "Forbidden", "attendees may only read their own person (signed in as attendee p2)");
    const { fetch, calls } = fakeFetch(() => forbidden());
    renderPerson("/persons/p1", fetch, config);
    const error = await screen.findByTestId("error-message");
    expect(within(error).getByText("You may not see this")).toBeTruthy();
    expect(error.textContent).toContain("attendees may only read their own person (signed in as attendee p2).");
    expect(error.textContent).toContain("You are signed in as Maya Varga (attendee).");
    expect(within(error).getByRole("link", { name: "See your own connections" }).getAttribute("href")).toBe("/persons/p2");
    // One message for the page, not one per section.
    expect(screen.getAllByTestId("error-message")).toHaveLength(1);
    expect(screen.queryByTestId("contacts-table")).toBeNull();
    expect(calls.every((c) => c.headers.get("Authorization") === "Bearer maya.token.sig")).toBe(true);
  });
});
