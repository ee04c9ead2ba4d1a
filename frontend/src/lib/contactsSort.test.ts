import { describe, expect, it } from "vitest";
import { DEFAULT_CONTACT_SORT, nextSort, sortContacts } from "./contactsSort";

const c = (id: string, first: string, last: string, company: string, encounters: number, firstSeen: string, lastSeen: string, closest: number) => ({
  person: { id, first_name: first, last_name: last, company_name: company },
  encounters,
  first_seen: firstSeen,
  last_seen: lastSeen,
  closest_distance_m: closest,
});

const contacts = [
  c("1", "maya", "Varga", "Northwind", 433, "2026-06-01T08:13:55Z", "2026-06-02T18:02:49Z", 0.29),
  c("2", "Aisha", "Patel", "Umbra Optics", 111, "2026-06-02T10:46:57Z", "2026-06-02T16:45:50Z", 0.13),
  c("3", "Liam", "Williams", "Granite", 111, "2026-06-02T09:52:04Z", "2026-06-02T16:45:58Z", 0.01),
  c("4", "Ánh", "Nguyen", "alpha", 7, "2026-06-01T12:00:00Z", "2026-06-01T12:30:00Z", 2.5),
];

const ids = (list: { person: { id: string } }[]) => list.map((x) => x.person.id);

describe("sortContacts", () => {
  it("starts like the API: most encounters first, ties by name", () => {
    expect(ids(sortContacts(contacts, DEFAULT_CONTACT_SORT))).toEqual(["1", "2", "3", "4"]);
  });

  it("sorts by name and company, ignoring case and accents", () => {
    expect(ids(sortContacts(contacts, { key: "name", direction: "ascending" }))).toEqual(["2", "4", "3", "1"]);
    expect(ids(sortContacts(contacts, { key: "name", direction: "descending" }))).toEqual(["1", "3", "4", "2"]);
    expect(ids(sortContacts(contacts, { key: "company", direction: "ascending" }))).toEqual(["4", "3", "1", "2"]);
  });

  it("sorts by times and distance", () => {
    expect(ids(sortContacts(contacts, { key: "first_seen", direction: "ascending" }))).toEqual(["1", "4", "3", "2"]);
    expect(ids(sortContacts(contacts, { key: "last_seen", direction: "descending" }))).toEqual(["1", "3", "2", "4"]);
    expect(ids(sortContacts(contacts, { key: "closest_distance_m", direction: "ascending" }))).toEqual(["3", "2", "1", "4"]);
  });

  it("does not change its input", () => {
    const copy = [...contacts];
    sortContacts(contacts, { key: "name", direction: "ascending" });
    expect(contacts).toEqual(copy);
  });
});

describe("nextSort", () => {
  it("flips the same column and starts a new one in its natural direction", () => {
    expect(nextSort(DEFAULT_CONTACT_SORT, "encounters")).toEqual({ key: "encounters", direction: "ascending" });
    expect(nextSort(DEFAULT_CONTACT_SORT, "name")).toEqual({ key: "name", direction: "ascending" });
    expect(nextSort({ key: "name", direction: "ascending" }, "closest_distance_m")).toEqual({ key: "closest_distance_m", direction: "ascending" });
    expect(nextSort({ key: "name", direction: "ascending" }, "last_seen")).toEqual({ key: "last_seen", direction: "descending" });
  });
});
