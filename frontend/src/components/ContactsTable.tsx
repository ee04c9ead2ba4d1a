import { useMemo, useState } from "react";
import { Link } from "react-router";
import type { Contact } from "../api/client";
import { formatUtc } from "../lib/dates";
import { fullName } from "../lib/people";
import { DEFAULT_CONTACT_SORT, nextSort, sortContacts, type ContactSort, type ContactSortKey } from "../lib/contactsSort";
import { Avatar } from "./Avatar";

const COLUMNS: ReadonlyArray<{ key: ContactSortKey; label: string; numeric?: boolean }> = [
  { key: "name", label: "Name" },
  { key: "company", label: "Company" },
  { key: "encounters", label: "Encounters", numeric: true },
  { key: "first_seen", label: "First seen" },
  { key: "last_seen", label: "Last seen" },
  { key: "closest_distance_m", label: "Closest", numeric: true },
];

export function formatDistance(metres: number): string {
  if (metres < 0.1) return "< 0.1 m";
  return `${metres.toLocaleString("en", { maximumFractionDigits: metres < 10 ? 1 : 0 })} m`;
}

function SortIcon({ direction }: { direction: "ascending" | "descending" | null }) {
  return (
    <svg className="sort-icon" viewBox="0 0 12 16" aria-hidden="true" focusable="false">
      <path d="M6 2 10 7H2Z" className={direction === "ascending" ? "sort-icon__on" : "sort-icon__off"} />
      <path d="M6 14 2 9h8Z" className={direction === "descending" ? "sort-icon__on" : "sort-icon__off"} />
    </svg>
  );
}

/** One row per person met, sortable by any column with the header buttons. */
export function ContactsTable({ contacts, caption }: { contacts: readonly Contact[]; caption: string }) {
  const [sort, setSort] = useState<ContactSort>(DEFAULT_CONTACT_SORT);
  const rows = useMemo(() => sortContacts(contacts, sort), [contacts, sort]);
  const sortedLabel = COLUMNS.find((c) => c.key === sort.key)?.label ?? "";
  return (
    <div className="table-scroll" role="region" aria-label={caption} tabIndex={0}>
      <table className="table">
        <caption className="visually-hidden">
          {caption}, sorted by {sortedLabel.toLowerCase()}, {sort.direction}
        </caption>
        <thead>
          <tr>
            {COLUMNS.map((column) => {
              const active = sort.key === column.key;
              return (
                <th
                  key={column.key}
                  scope="col"
                  aria-sort={active ? sort.direction : undefined}
                  className={column.numeric ? "num" : undefined}
                >
                  <button type="button" className="sort-button" onClick={() => setSort((s) => nextSort(s, column.key))}>
                    {column.label}
                    <SortIcon direction={active ? sort.direction : null} />
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((contact) => (
            <tr key={contact.person.id}>
              <th scope="row" className="table__person">
                <Link to={`/persons/${contact.person.id}`}>
                  <Avatar person={contact.person} size="sm" />
                  {fullName(contact.person)}
                </Link>
              </th>
              <td>{contact.person.company_name}</td>
              <td className="num">{contact.encounters.toLocaleString("en")}</td>
              <td>
                <time dateTime={contact.first_seen}>{formatUtc(contact.first_seen)}</time>
              </td>
              <td>
                <time dateTime={contact.last_seen}>{formatUtc(contact.last_seen)}</time>
              </td>
              <td className="num">{formatDistance(contact.closest_distance_m)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
