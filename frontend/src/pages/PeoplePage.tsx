import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { Link, useLocation, useSearchParams } from "react-router";
import { useAppServices } from "../api/context";
import { peopleQueryOptions } from "../api/queries";
import { AddPersonForm } from "../components/AddPersonForm";
import { Avatar } from "../components/Avatar";
import { PendingPeople } from "../components/PendingPeople";
import { EmptyState, ErrorMessage, Loading, SkeletonRows } from "../components/StatusViews";
import { isDeletedNotice } from "../lib/deletedNotice";
import { fullName } from "../lib/people";
import { useDebounced } from "../lib/useDebounced";
import { useDocumentTitle } from "../lib/useDocumentTitle";

const SEARCH_DEBOUNCE_MS = 300;

export function PeoplePage() {
  const { config } = useAppServices();
  useDocumentTitle("People");
  const { state } = useLocation();
  const deleted = isDeletedNotice(state) ? state.deleted : null;
  return (
    <div className="page">
      {deleted && (
        <div className="deleted-notice" role="status" data-testid="deleted-notice">
          <p className="deleted-notice__title">
            Deleted: {deleted.name} and every ping of theirs are gone; this cannot be undone.
          </p>
          {deleted.self && (
            <p>You deleted yourself. You are still signed in as {deleted.signedInAs}, and can still see the list of people.</p>
          )}
        </div>
      )}
      <div className="page__header">
        <h1>People</h1>
        <p className="page__lede">
          {config.event ? `Everyone at ${config.event.name}. ` : ""}Open a person to see whom they met, where and when.
        </p>
        {/* On narrow screens the form comes after the list: a way to it. */}
        <a className="button button--small add-jump" href="#add-person">
          Add a person
        </a>
      </div>
      <div className="people-layout">
        <PeopleDirectory />
        <aside className="card people-layout__side" id="add-person" aria-label="Add a person">
          <AddPersonForm />
          <PendingPeople />
        </aside>
      </div>
    </div>
  );
}

function listSummary(count: number, more: boolean, q: string): string {
  const n = count.toLocaleString("en");
  const people = count === 1 ? "person" : "people";
  if (q) return more ? `The first ${n} people matching “${q}”` : `${n} ${people} matching “${q}”`;
  return more ? `The first ${n} people` : `All ${n} ${people}`;
}

function PeopleDirectory() {
  const { api } = useAppServices();
  const id = useId();
  const [searchParams, setSearchParams] = useSearchParams();
  const q = (searchParams.get("q") ?? "").trim();
  const [text, setText] = useState(q);
  const debounced = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const lastWritten = useRef(q);

  // Typing updates the URL (replacing, so Back does not step through every keystroke).
  useEffect(() => {
    if (debounced === lastWritten.current) return;
    lastWritten.current = debounced;
    setSearchParams(
      (params) => {
        const next = new URLSearchParams(params);
        if (debounced) next.set("q", debounced);
        else next.delete("q");
        return next;
      },
      { replace: true },
    );
  }, [debounced, setSearchParams]);

  // The URL changing by itself (Back, a link) updates the box.
  useEffect(() => {
    if (q !== lastWritten.current) {
      lastWritten.current = q;
      setText(q);
    }
  }, [q]);

  const people = useInfiniteQuery({ ...peopleQueryOptions(api, q), placeholderData: keepPreviousData });
  const rows = people.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="card people-layout__main" data-testid="people-list" aria-labelledby={`${id}-title`}>
      <div className="card__header">
        <h2 id={`${id}-title`} className="card__title">
          Attendees
        </h2>
        <form role="search" className="search" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor={`${id}-search`} className="visually-hidden">
            Search by name or company
          </label>
          <svg className="search__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <circle cx="10.5" cy="10.5" r="6.5" fill="none" stroke="currentColor" strokeWidth="2" />
            <path d="m15.5 15.5 5 5" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
          <input
            id={`${id}-search`}
            type="search"
            data-testid="people-search"
            placeholder="Search by name or company"
            maxLength={100}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </form>
      </div>

      {people.isPending ? (
        <SkeletonRows label="Loading people" />
      ) : people.isError && !rows.length ? (
        <ErrorMessage error={people.error} onRetry={() => void people.refetch()} retrying={people.isFetching} />
      ) : rows.length === 0 ? (
        <EmptyState>{q ? `No one matches “${q}”. Try part of a first name, last name or company.` : "No one has been added yet."}</EmptyState>
      ) : (
        <>
          <p className="list-summary" aria-live="polite">
            {listSummary(rows.length, people.hasNextPage, q)}
          </p>
          <ul className="people-list">
            {rows.map((person) => (
              <li key={person.id}>
                <Link to={`/persons/${person.id}`} className="people-list__link">
                  <Avatar person={person} />
                  <span className="people-list__text">
                    <span className="people-list__name" title={fullName(person)}>
                      {fullName(person)}
                    </span>
                    <span className="people-list__company" title={person.company_name}>
                      {person.company_name}
                    </span>
                  </span>
                  <svg className="people-list__chevron" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                    <path d="m9 6 6 6-6 6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                  </svg>
                </Link>
              </li>
            ))}
          </ul>
          {people.isFetchNextPageError && (
            <ErrorMessage error={people.error} onRetry={() => void people.fetchNextPage()} compact />
          )}
          {people.hasNextPage && (
            <div className="load-more">
              <button
                type="button"
                className="button"
                onClick={() => void people.fetchNextPage()}
                disabled={people.isFetchingNextPage}
              >
                {people.isFetchingNextPage ? "Loading…" : "Load more people"}
              </button>
            </div>
          )}
          {people.isFetching && !people.isFetchingNextPage && <Loading label="Refreshing" inline />}
        </>
      )}
    </section>
  );
}
