/**
 * A person's page: whom they met in the chosen range (contacts), each nearby ping (connections),
 * where (map) and when (timeline). Each section loads and fails on its own: one service down does
 * not take the page with it.
 */
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useId, useMemo, type ReactNode } from "react";
import { Link } from "react-router";
import type { ConnectionFeature, Person } from "../api/client";
import { useAppServices } from "../api/context";
import { isApiError } from "../api/errors";
import { useSession } from "../auth/SessionProvider";
import {
  connectionsQueryOptions,
  contactsQueryOptions,
  locationsQueryOptions,
  meetingPingsQueryOptions,
  personQueryOptions,
} from "../api/queries";
import { Avatar } from "../components/Avatar";
import { ConnectionsTable } from "../components/ConnectionsTable";
import { ContactsTable, formatDistance } from "../components/ContactsTable";
import { QueryControls } from "../components/QueryControls";
import { mayActFor, PersonData } from "../components/PersonData";
import { EmptyState, ErrorMessage, Loading, SkeletonRows } from "../components/StatusViews";
import { Timeline } from "../components/Timeline";
import { describeRange, type PersonQuery, type PersonQueryInput, type PersonQueryResult } from "../lib/dates";
import { MARK_CONTACTS_DRAWN, usePerformanceMark } from "../lib/marks";
import { fullName } from "../lib/people";
import { useDocumentTitle } from "../lib/useDocumentTitle";

const PersonMap = lazy(() => import("../components/PersonMap"));
const NO_PINGS: ConnectionFeature[] = [];

interface Props {
  id: string;
  input: PersonQueryInput;
  result: PersonQueryResult;
  defaults: PersonQuery;
  onQueryChange: (query: PersonQuery) => void;
}

export default function PersonPage({ id, input, result, defaults, onQueryChange }: Props) {
  const { api } = useAppServices();
  const person = useQuery(personQueryOptions(api, id));
  const name = person.data ? fullName(person.data) : undefined;
  useDocumentTitle(name ?? "Person");
  const displayName = name ?? "This person";
  const { session, sessionKey } = useSession();
  const ownId = session?.role === "attendee" ? session.personId : null;

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <Link to="/">
        <span aria-hidden="true">←</span> All people
      </Link>
    </nav>
  );

  // Refused (not signed in, or not allowed to see this person): every section would be refused the
  // same way, so one message for the page instead of one in each.
  if (isApiError(person.error) && (person.error.isUnauthorized || person.error.isForbidden)) {
    return (
      <div className="page">
        {breadcrumb}
        <PersonHeader person={undefined} loading={false} notFound={false} />
        <ErrorMessage error={person.error}>
          {person.error.isForbidden && ownId && ownId !== id && (
            <p className="error-box__detail">
              <Link to={`/persons/${encodeURIComponent(ownId)}`}>See your own connections</Link>
            </p>
          )}
        </ErrorMessage>
      </div>
    );
  }

  return (
    <div className="page">
      {breadcrumb}
      <PersonHeader person={person.data} loading={person.isPending} notFound={isApiError(person.error) && person.error.isNotFound} />
      {person.isError && (
        <ErrorMessage error={person.error} onRetry={() => void person.refetch()} retrying={person.isFetching} compact />
      )}
      <QueryControls input={input} defaults={defaults} onApply={onQueryChange} />
      {result.ok ? (
        <PersonSections id={id} query={result.query} personName={displayName} />
      ) : (
        <p className="notice">Fix the values above to see whom {name ?? "this person"} met.</p>
      )}
      {person.data && session && mayActFor(session, id) && <PersonData key={`${id}|${sessionKey}`} person={person.data} session={session} />}
    </div>
  );
}

function PersonHeader({ person, loading, notFound }: { person: Person | undefined; loading: boolean; notFound: boolean }) {
  if (person) {
    return (
      <div className="person-header">
        <Avatar person={person} />
        <div>
          <h1>{fullName(person)}</h1>
          <p className="person-header__company">{person.company_name}</p>
        </div>
      </div>
    );
  }
  return (
    <div className="person-header">
      <div>
        <h1>{loading ? "Loading person…" : notFound ? "Unknown person" : "Person"}</h1>
        {loading && <span className="skeleton__row skeleton__row--short" aria-hidden="true" />}
      </div>
    </div>
  );
}

function Section({
  title,
  testId,
  className,
  actions,
  children,
}: {
  title: string;
  testId: string;
  className?: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <section className={`card ${className ?? ""}`} data-testid={testId} aria-labelledby={`${id}-title`}>
      <div className="card__header">
        <h2 id={`${id}-title`} className="card__title">
          {title}
        </h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

function describeQuery(query: PersonQuery, name: string): string {
  const within = query.window === null ? "at any time in the range" : `within ${query.window} min of each other`;
  return `Who came within ${formatDistance(query.distance)} of ${name}, ${within}, on ${describeRange(query.start, query.end)} (UTC days, inclusive).`;
}

function PersonSections({ id, query, personName }: { id: string; query: PersonQuery; personName: string }) {
  const { api, config } = useAppServices();
  // All start together (and were already started by the route's prefetch).
  const contacts = useQuery(contactsQueryOptions(api, id, query));
  const locations = useQuery(locationsQueryOptions(api, id, query));
  const connections = useInfiniteQuery(connectionsQueryOptions(api, id, query));
  const meetings = useQuery(meetingPingsQueryOptions(api, id, query));
  const queryKey = `${id}|${query.start}|${query.end}|${query.distance}|${query.window ?? "none"}`;

  const listed = useMemo<ConnectionFeature[]>(
    () => connections.data?.pages.flatMap((page) => page.items) ?? [],
    [connections.data],
  );
  const meetingPings = meetings.data?.items ?? NO_PINGS;
  const contactRows = contacts.data?.items;
  usePerformanceMark(MARK_CONTACTS_DRAWN, queryKey, contacts.isSuccess);

  const totalEncounters = contactRows?.reduce((sum, c) => sum + c.encounters, 0);
  const closest = contactRows?.length ? Math.min(...contactRows.map((c) => c.closest_distance_m)) : undefined;

  return (
    <>
      <p className="query-summary">{describeQuery(query, personName)}</p>
      <dl className="stats" aria-label="Summary">
        <Stat label="People met" value={contacts.isError ? "—" : contactRows?.length.toLocaleString("en")} />
        <Stat label="Encounters" value={contacts.isError ? "—" : totalEncounters?.toLocaleString("en")} />
        <Stat
          label="Own pings"
          value={
            locations.isError
              ? "—"
              : locations.data && `${locations.data.items.length.toLocaleString("en")}${locations.data.truncated ? "+" : ""}`
          }
        />
        <Stat
          label="Closest approach"
          value={closest !== undefined ? formatDistance(closest) : contacts.isSuccess || contacts.isError ? "—" : undefined}
        />
      </dl>

      <div className="person-grid">
        <Section title="Contacts" testId="contacts-table" className="person-grid__contacts">
          {contacts.isPending ? (
            <SkeletonRows label="Loading contacts" rows={5} />
          ) : contacts.isError ? (
            <ErrorMessage error={contacts.error} onRetry={() => void contacts.refetch()} retrying={contacts.isFetching} />
          ) : contacts.data.items.length === 0 ? (
            <EmptyState>No contacts in this range — try a larger distance or no window.</EmptyState>
          ) : (
            <>
              <ContactsTable contacts={contacts.data.items} caption={`People ${personName} met`} />
              {contacts.data.truncated && (
                <p className="note">Showing the first {contacts.data.items.length.toLocaleString("en")} contacts; narrow the range to see the rest.</p>
              )}
            </>
          )}
        </Section>

        <Section title="Map" testId="person-map">
          {locations.isError && (
            <ErrorMessage error={locations.error} onRetry={() => void locations.refetch()} retrying={locations.isFetching} compact />
          )}
          {meetings.isError && (
            <ErrorMessage
              error={meetings.error}
              title="Where they met others could not be loaded"
              onRetry={() => void meetings.refetch()}
              retrying={meetings.isFetching}
              compact
            />
          )}
          <Suspense fallback={<Loading label="Loading the map" />}>
            <PersonMap
              venueUrl={config.venueUrl}
              personName={personName}
              ownPings={locations.isError ? [] : locations.data?.items}
              ownTruncated={locations.data?.truncated ?? false}
              metPings={meetingPings}
              metTruncated={meetings.data?.truncated ?? false}
              drawKey={`${id}|${query.start}|${query.end}`}
            />
          </Suspense>
        </Section>

        <Section title="Timeline" testId="timeline">
          {contacts.isPending ? (
            <Loading label="Loading the timeline" />
          ) : contacts.isError ? (
            <p className="note">The timeline needs the contacts, which could not be loaded (see above).</p>
          ) : contacts.data.items.length === 0 ? (
            <EmptyState>Nobody to show on the timeline for this range.</EmptyState>
          ) : (
            <Timeline
              contacts={contacts.data.items}
              pings={meetingPings}
              pingsTruncated={meetings.data?.truncated ?? false}
              start={query.start}
              end={query.end}
              personName={personName}
            />
          )}
        </Section>
        <Section
          title="Connections"
          testId="connections-list"
          actions={
            listed.length > 0 ? (
              <span className="card__meta">
                {listed.length.toLocaleString("en")}
                {connections.hasNextPage ? " shown, more available" : " in all"}
              </span>
            ) : undefined
          }
        >
          {connections.isPending ? (
            <SkeletonRows label="Loading connections" rows={6} />
          ) : connections.isError && !listed.length ? (
            <ErrorMessage error={connections.error} onRetry={() => void connections.refetch()} retrying={connections.isFetching} />
          ) : listed.length === 0 ? (
            <EmptyState>No connection pings in this range — try a larger distance or no window.</EmptyState>
          ) : (
            <>
              <ConnectionsTable features={listed} label={`Pings of others near ${personName}`} />
              {connections.isFetchNextPageError && (
                <ErrorMessage error={connections.error} onRetry={() => void connections.fetchNextPage()} compact />
              )}
              {connections.hasNextPage && (
                <div className="load-more">
                  <button
                    type="button"
                    className="button"
                    onClick={() => void connections.fetchNextPage()}
                    disabled={connections.isFetchingNextPage}
                  >
                    {connections.isFetchingNextPage ? "Loading…" : "Load more connections"}
                  </button>
                </div>
              )}
            </>
          )}
        </Section>

      </div>
    </>
  );
}

function Stat({ label, value }: { label: string; value: string | undefined }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>
        {value ?? (
          <>
            <span className="skeleton__row skeleton__row--stat" aria-hidden="true" />
            <span className="visually-hidden">Loading</span>
          </>
        )}
      </dd>
    </div>
  );
}
