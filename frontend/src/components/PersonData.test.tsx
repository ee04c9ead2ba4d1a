import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { exportFilename } from "../api/client";
import type { Identity, RuntimeConfig } from "../config";
import { PeoplePage } from "../pages/PeoplePage";
import { PersonRoute } from "../pages/PersonRoute";
import { fakeFetch, json, problem, TEST_CONFIG, type Recorded } from "../test/fakeFetch";
import { renderWithApp } from "../test/render";
import { mayActFor } from "./PersonData";

vi.mock("./PersonMap", () => ({ default: () => <p>map</p> }));

const ravi = { id: "p1", first_name: "Ravi", last_name: "Abara", company_name: "Willow Education" };
const ORGANIZER: Identity = { name: "Organizer", role: "organizer", personId: null, token: "org.token.sig" };
const RAVI: Identity = { name: "Ravi Abara (attendee)", role: "attendee", personId: "p1", token: "ravi.token.sig" };
const GPX = '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="UdaConnect"><trk><name>Ravi Abara</name></trk></gpx>';

function configAs(identity: Identity): RuntimeConfig {
  return { ...TEST_CONFIG, identities: [identity] };
}

/** The person service as these flows see it; the others answer empty pages. */
function backend(
  options: {
    exportAnswer?: (r: Recorded) => Response;
    deleteAnswer?: (r: Recorded) => Response;
    /** How many reads of the person still find them after the delete was accepted. */
    readsAfterDelete?: number;
  } = {},
) {
  let deleted = false;
  let readsLeft = options.readsAfterDelete ?? 0;
  return fakeFetch((request) => {
    const { url, method } = request;
    if (url.host === "person.test") {
      if (url.pathname === "/api/persons") return json([ravi]);
      if (url.pathname === "/api/persons/p1/export") {
        return options.exportAnswer
          ? options.exportAnswer(request)
          : new Response(GPX, {
              headers: { "Content-Type": "application/gpx+xml", "Content-Disposition": 'attachment; filename="udaconnect-p1-from-server.gpx"' },
            });
      }
      if (url.pathname === "/api/persons/p1" && method === "DELETE") {
        if (options.deleteAnswer) return options.deleteAnswer(request);
        deleted = true;
        return json({ person_id: "p1", requested_at: "2026-06-01T12:00:00Z" }, { status: 202 });
      }
      if (url.pathname === "/api/persons/p1") {
        if (deleted && readsLeft-- <= 0) return problem(404, "Not found", "No person with id p1.");
        return json(ravi);
      }
    }
    if (url.host === "location.test") return json({ type: "FeatureCollection", features: [] }, { headers: { "Content-Type": "application/geo+json" } });
    if (url.pathname.endsWith("/contacts")) return json([]);
    if (url.pathname.endsWith("/connection")) return json({ type: "FeatureCollection", features: [] }, { headers: { "Content-Type": "application/geo+json" } });
    return problem(404, "Not found");
  });
}

function renderPage(fetch: (r: Request) => Promise<Response>, identity: Identity = ORGANIZER) {
  return renderWithApp(
    <Routes>
      <Route path="/" element={<PeoplePage />} />
      <Route path="/persons/:id" element={<PersonRoute />} />
    </Routes>,
    { fetch, route: "/persons/p1?start=2026-06-01&end=2026-06-02&distance=5&window=5", config: configAs(identity) },
  );
}

describe("downloading a person's data", () => {
  let clicked: { href: string; download: string }[];
  let blobs: Blob[];

  beforeEach(() => {
    clicked = [];
    blobs = [];
    // jsdom has no Blob URLs and does not download: record what would have been saved.
    URL.createObjectURL = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return `blob:test/${blobs.length}`;
    });
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it("fetches the export with the bearer token and saves it under the name the server gives", async () => {
    const { fetch, calls } = backend();
    renderPage(fetch);
    const section = await screen.findByRole("region", { name: "Data of Ravi Abara" });
    fireEvent.click(within(section).getByRole("button", { name: "Download GPX" }));

    expect(within(section).getByRole("status", { name: "Preparing the GPX download" })).toBeTruthy();
    expect((await within(section).findByText("Saved udaconnect-p1-from-server.gpx.")).getAttribute("role")).toBe("status");
    const exportCall = calls.find((c) => c.url.pathname === "/api/persons/p1/export");
    expect(exportCall?.url.searchParams.get("format")).toBe("gpx");
    expect(exportCall?.headers.get("Authorization")).toBe("Bearer org.token.sig");
    expect(clicked).toEqual([{ href: "blob:test/1", download: "udaconnect-p1-from-server.gpx" }]);
    expect(await blobs[0]!.text()).toBe(GPX);
    // The temporary link is gone again.
    expect(document.querySelector("a[download]")).toBeNull();
  });

  it("says why an export was refused, as the error panels do", async () => {
    const { fetch } = backend({ exportAnswer: () => problem(403, "Forbidden", "Only the person themself or an organizer may export their own data.") });
    renderPage(fetch);
    const section = await screen.findByRole("region", { name: "Data of Ravi Abara" });
    fireEvent.click(within(section).getByRole("button", { name: "Download JSON" }));
    const error = await within(section).findByTestId("error-message");
    expect(error.getAttribute("data-kind")).toBe("forbidden");
    expect(error.textContent).toContain("The JSON download failed");
    expect(error.textContent).toContain("Only the person themself or an organizer may export their own data.");
    expect(error.textContent).toContain("You are signed in as Organizer");
    expect(clicked).toEqual([]);
  });

  it("names the file from Content-Disposition, else after the person and format", () => {
    expect(exportFilename('attachment; filename="udaconnect-p1.geojson"', "p1", "geojson")).toBe("udaconnect-p1.geojson");
    expect(exportFilename("attachment; filename=plain.json", "p1", "json")).toBe("plain.json");
    expect(exportFilename("attachment; filename=\"x.gpx\"; filename*=UTF-8''R%C3%A9my.gpx", "p1", "gpx")).toBe("Rémy.gpx");
    expect(exportFilename('attachment; filename="../../etc/passwd"', "p1", "json")).toBe("passwd");
    // Cross-origin, a header the API does not expose reads as null.
    expect(exportFilename(null, "p1", "gpx")).toBe("udaconnect-p1.gpx");
    expect(exportFilename("attachment", "p1", "json")).toBe("udaconnect-p1.json");
  });
});

describe("deleting a person", () => {
  it("asks first; Cancel sends nothing and gives the focus back", async () => {
    const { fetch, calls } = backend();
    renderPage(fetch);
    const section = await screen.findByRole("region", { name: "Data of Ravi Abara" });
    fireEvent.click(within(section).getByRole("button", { name: "Delete Ravi Abara and all their data" }));
    const confirm = within(section).getByRole("group", { name: /Delete Ravi Abara, every ping of theirs .* cannot be undone/ });
    const cancel = within(confirm).getByRole("button", { name: "Cancel" });
    expect(document.activeElement).toBe(cancel);
    fireEvent.click(cancel);
    expect(within(section).queryByRole("group", { name: /cannot be undone/ })).toBeNull();
    expect(document.activeElement).toBe(within(section).getByRole("button", { name: "Delete Ravi Abara and all their data" }));
    expect(calls.filter((c) => c.method === "DELETE")).toEqual([]);
  });

  it("after the 202 says it is being removed, waits for the 404, then shows the refreshed list", async () => {
    const { fetch, calls } = backend({ readsAfterDelete: 1 });
    const { queryClient } = renderPage(fetch);
    const section = await screen.findByRole("region", { name: "Data of Ravi Abara" });
    fireEvent.click(within(section).getByRole("button", { name: "Delete Ravi Abara and all their data" }));
    fireEvent.click(within(section).getByRole("button", { name: "Yes, delete Ravi Abara" }));

    const status = await within(section).findByTestId("deletion-status");
    expect(status.getAttribute("role")).toBe("status");
    expect(status.textContent).toContain("Deletion accepted: Ravi Abara and every ping are being removed; this cannot be undone.");
    const deleteCall = calls.find((c) => c.method === "DELETE");
    expect(deleteCall?.url.pathname).toBe("/api/persons/p1");
    expect(deleteCall?.headers.get("Authorization")).toBe("Bearer org.token.sig");

    // Read back until it answers 404 (here: once more found, then gone), then the people list.
    await waitFor(() => expect(screen.getByTestId("location").textContent).toBe("/"), { timeout: 3000 });
    expect(screen.getByTestId("deleted-notice").textContent).toContain("Deleted: Ravi Abara and every ping of theirs are gone");
    const readsAfter = calls.slice(calls.indexOf(deleteCall!)).filter((c) => c.method === "GET" && c.url.pathname === "/api/persons/p1");
    expect(readsAfter).toHaveLength(2);
    // Nothing of theirs stays cached, and the list is asked again.
    expect(queryClient.getQueryCache().findAll({ predicate: ({ queryKey }) => queryKey.includes("p1") })).toEqual([]);
    await waitFor(() => expect(calls.filter((c) => c.url.pathname === "/api/persons" && c.method === "GET").length).toBeGreaterThan(0));
  });

  it("an attendee deleting themself is told so and stays signed in", async () => {
    const { fetch, calls } = backend();
    renderPage(fetch, RAVI);
    const section = await screen.findByRole("region", { name: "Your data" });
    fireEvent.click(within(section).getByRole("button", { name: "Delete Ravi Abara and all their data" }));
    expect(within(section).getByRole("group", { name: /Delete yourself \(Ravi Abara\)/ })).toBeTruthy();
    fireEvent.click(within(section).getByRole("button", { name: "Yes, delete Ravi Abara" }));
    await waitFor(() => expect(screen.getByTestId("location").textContent).toBe("/"), { timeout: 3000 });
    const notice = screen.getByTestId("deleted-notice");
    expect(notice.textContent).toContain("You deleted yourself. You are still signed in as Ravi Abara (attendee)");
    // The same token keeps asking for the public list.
    await waitFor(() => expect(calls.some((c) => c.url.pathname === "/api/persons")).toBe(true));
    const list = calls.filter((c) => c.url.pathname === "/api/persons");
    expect(list.at(-1)?.headers.get("Authorization")).toBe("Bearer ravi.token.sig");
  });

  it("shows a refusal and stays on the page", async () => {
    const { fetch } = backend({ deleteAnswer: () => problem(403, "Forbidden", "Only the person themself or an organizer may delete themselves.") });
    renderPage(fetch);
    const section = await screen.findByRole("region", { name: "Data of Ravi Abara" });
    fireEvent.click(within(section).getByRole("button", { name: "Delete Ravi Abara and all their data" }));
    fireEvent.click(within(section).getByRole("button", { name: "Yes, delete Ravi Abara" }));
    const error = await within(section).findByTestId("error-message");
    expect(error.getAttribute("data-kind")).toBe("forbidden");
    expect(error.textContent).toContain("Ravi Abara was not deleted");
    expect(error.textContent).toContain("may delete themselves");
    expect(within(error).queryByRole("button", { name: "Retry" })).toBeNull();
    expect(screen.getByTestId("location").textContent).toMatch(/^\/persons\/p1\?/);
    expect(within(section).queryByTestId("deletion-status")).toBeNull();
  });
});

describe("who may act for a person", () => {
  it("is an organizer, or the attendee themself", () => {
    const session = (identity: Identity) => ({ ...identity, source: "configured" as const });
    expect(mayActFor(session(ORGANIZER), "p1")).toBe(true);
    expect(mayActFor(session(RAVI), "p1")).toBe(true);
    expect(mayActFor(session(RAVI), "p2")).toBe(false);
    expect(mayActFor({ ...session(RAVI), role: null }, "p1")).toBe(false);
    expect(mayActFor(null, "p1")).toBe(false);
  });

  it("the section is not offered to an attendee on someone else's page", async () => {
    const { fetch } = backend();
    renderPage(fetch, { ...RAVI, personId: "p9" });
    expect(await screen.findByRole("heading", { level: 1, name: "Ravi Abara" })).toBeTruthy();
    expect(screen.queryByTestId("person-data")).toBeNull();
  });
});
