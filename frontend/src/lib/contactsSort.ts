/** Sorting the contacts table: by any column, either way, ties broken by name so the order is stable. */

export type ContactSortKey = "name" | "company" | "encounters" | "first_seen" | "last_seen" | "closest_distance_m";
export type SortDirection = "ascending" | "descending";

export interface ContactSort {
  key: ContactSortKey;
  direction: SortDirection;
}

export interface SortableContact {
  person: { id: string; first_name: string; last_name: string; company_name: string };
  encounters: number;
  first_seen: string;
  last_seen: string;
  closest_distance_m: number;
}

/** The API's own order: most encounters first. */
export const DEFAULT_CONTACT_SORT: ContactSort = { key: "encounters", direction: "descending" };

const collator = new Intl.Collator("en", { sensitivity: "base", numeric: true });

function nameOf(c: SortableContact): string {
  return `${c.person.first_name} ${c.person.last_name}`;
}

function compareBy(key: ContactSortKey, a: SortableContact, b: SortableContact): number {
  switch (key) {
    case "name":
      return collator.compare(nameOf(a), nameOf(b));
    case "company":
      return collator.compare(a.person.company_name, b.person.company_name);
    case "encounters":
      return a.encounters - b.encounters;
    case "first_seen":
      return Date.parse(a.first_seen) - Date.parse(b.first_seen);
    case "last_seen":
      return Date.parse(a.last_seen) - Date.parse(b.last_seen);
    case "closest_distance_m":
      return a.closest_distance_m - b.closest_distance_m;
  }
}

export function sortContacts<T extends SortableContact>(contacts: readonly T[], sort: ContactSort): T[] {
  const sign = sort.direction === "ascending" ? 1 : -1;
  return [...contacts].sort(
    (a, b) =>
      sign * compareBy(sort.key, a, b) ||
      collator.compare(nameOf(a), nameOf(b)) ||
      a.person.id.localeCompare(b.person.id),
  );
}

/** Where each column starts when first chosen: counts biggest first, everything else A→Z / earliest / closest first. */
const FIRST_DIRECTION: Record<ContactSortKey, SortDirection> = {
  name: "ascending",
  company: "ascending",
  encounters: "descending",
  first_seen: "ascending",
  last_seen: "descending",
  closest_distance_m: "ascending",
};

/** Choosing a column: the same one again flips it, another starts in its natural direction. */
export function nextSort(current: ContactSort, key: ContactSortKey): ContactSort {
  if (current.key === key) return { key, direction: current.direction === "ascending" ? "descending" : "ascending" };
  return { key, direction: FIRST_DIRECTION[key] };
}
