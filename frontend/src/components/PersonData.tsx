/**
 * A person's own data, for whoever may act for them (an organizer, or the attendee on their own page):
 * everything stored about them as a download (JSON, GeoJSON, GPX), and deleting them with all their
 * pings. Deletion is asynchronous (202, applied through the broker): after the 202 the person is read
 * back until it answers 404, then the app goes to the people list.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { deletePerson, exportPerson, getPerson, type ExportFormat, type Person } from "../api/client";
import { useAppServices } from "../api/context";
import { isApiError } from "../api/errors";
import { personsListKey } from "../api/queries";
import type { Session } from "../auth/session";
import type { DeletedNotice } from "../lib/deletedNotice";
import { saveBlob } from "../lib/download";
import { pollUntilReadable, type PollOptions } from "../lib/pendingWrite";
import { fullName } from "../lib/people";
import { ErrorMessage, Loading } from "./StatusViews";

export const EXPORT_FORMATS: { format: ExportFormat; label: string }[] = [
  { format: "json", label: "JSON" },
  { format: "geojson", label: "GeoJSON" },
  { format: "gpx", label: "GPX" },
];

/** Deletion is applied within about a second; give it a little more before saying it is slow. */
export const DELETION_POLL: PollOptions = { timeoutMs: 15_000, initialDelayMs: 250, factor: 1.5, maxDelayMs: 2_000 };

/** Whether the signed-in identity may export and delete this person (the APIs check it again). */
export function mayActFor(session: Session | null, personId: string): boolean {
  if (!session) return false;
  return session.role === "organizer" || (session.role === "attendee" && session.personId === personId);
}

type ExportState =
  | { status: "idle" }
  | { status: "loading"; format: ExportFormat }
  | { status: "saved"; format: ExportFormat; filename: string }
  | { status: "failed"; format: ExportFormat; error: unknown };

type DeleteState =
  | { status: "idle" }
  | { status: "confirming" }
  | { status: "deleting" }
  | { status: "failed"; error: unknown }
  | { status: "accepted" }
  | { status: "slow" };

export function PersonData({
  person,
  session,
  pollOptions = DELETION_POLL,
}: {
  person: Person;
  session: Session;
  pollOptions?: PollOptions;
}) {
  const { api } = useAppServices();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const headingId = useId();
  const confirmTextId = useId();
  const name = fullName(person);
  const self = session.role === "attendee" && session.personId === person.id;

  const [download, setDownload] = useState<ExportState>({ status: "idle" });
  const [deletion, setDeletion] = useState<DeleteState>({ status: "idle" });
  const cancelRef = useRef<HTMLButtonElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  // Stops the export request and the read-back polling when the page goes away.
  const alive = useRef<AbortController | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    alive.current = controller;
    return () => controller.abort();
  }, []);

  // The confirm step takes the focus to its least harmful choice; cancelling gives it back.
  useEffect(() => {
    if (deletion.status === "confirming") {
      cancelRef.current?.focus();
      wasConfirming.current = true;
    } else if (deletion.status === "idle" && wasConfirming.current) {
      deleteRef.current?.focus();
      wasConfirming.current = false;
    }
  }, [deletion.status]);

  async function save(format: ExportFormat) {
    setDownload({ status: "loading", format });
    try {
      const file = await exportPerson(api, person.id, format, alive.current?.signal);
      saveBlob(file.blob, file.filename);
      setDownload({ status: "saved", format, filename: file.filename });
    } catch (error) {
      if (alive.current?.signal.aborted) return;
      setDownload({ status: "failed", format, error });
    }
  }

  async function confirmDelete() {
    setDeletion({ status: "deleting" });
    try {
      await deletePerson(api, person.id);
    } catch (error) {
      setDeletion({ status: "failed", error });
      return;
    }
    setDeletion({ status: "accepted" });
    const signal = alive.current?.signal;
    const outcome = await pollUntilReadable(
      async (attemptSignal) => {
        try {
          await getPerson(api, person.id, attemptSignal);
          return undefined; // still there
        } catch (error) {
          if (isApiError(error) && error.isNotFound) return true;
          throw error;
        }
      },
      { ...pollOptions, ...(signal && { signal }) },
    );
    if (signal?.aborted) return;
    if (outcome.status === "stored") {
      const notice: DeletedNotice = { deleted: { name, self, signedInAs: session.name } };
      void navigate("/", { state: notice });
      forgetPerson();
    } else {
      setDeletion({ status: "slow" });
    }
  }

  /** Nothing of the person stays cached; every list and every answer that could name them is asked again. */
  function forgetPerson() {
    queryClient.removeQueries({ predicate: ({ queryKey }) => queryKey[0] === api.sessionKey && queryKey.includes(person.id) });
    void queryClient.invalidateQueries({ queryKey: personsListKey(api) });
    void queryClient.invalidateQueries({
      predicate: ({ queryKey }) => queryKey[0] === api.sessionKey && ["contacts", "connections"].includes(String(queryKey[1])),
    });
  }

  const busy = download.status === "loading";
  const formatLabel = (format: ExportFormat) => EXPORT_FORMATS.find((f) => f.format === format)?.label ?? format;
  const acceptedText = `Deletion accepted: ${name} and every ping are being removed; this cannot be undone.`;

  return (
    <section className="card person-data" data-testid="person-data" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          {self ? "Your data" : `Data of ${name}`}
        </h2>
      </div>
      <p className="note person-data__lede">
        Everything stored about {self ? "you" : name}: the person and every ping (position and time). Connections
        and contacts are computed from the pings, so nothing else is kept.
      </p>

      <div className="person-data__downloads" role="group" aria-label={`Download the data of ${name}`}>
        {EXPORT_FORMATS.map(({ format, label }) => (
          <button key={format} type="button" className="button button--small" disabled={busy} onClick={() => void save(format)}>
            Download {label}
          </button>
        ))}
      </div>
      {download.status === "loading" && <Loading label={`Preparing the ${formatLabel(download.format)} download`} inline />}
      {download.status === "saved" && (
        <p className="person-data__done" role="status">
          Saved {download.filename}.
        </p>
      )}
      {download.status === "failed" && (
        <ErrorMessage
          error={download.error}
          title={`The ${formatLabel(download.format)} download failed`}
          onRetry={() => void save(download.format)}
          compact
        />
      )}

      <div className="person-data__delete">
        {(deletion.status === "idle" || deletion.status === "failed") && (
          <button
            ref={deleteRef}
            type="button"
            className="button button--small button--danger"
            onClick={() => setDeletion({ status: "confirming" })}
          >
            Delete {name} and all their data
          </button>
        )}
        {deletion.status === "failed" && (
          <ErrorMessage error={deletion.error} title={`${name} was not deleted`} onRetry={() => void confirmDelete()} compact />
        )}
        {(deletion.status === "confirming" || deletion.status === "deleting") && (
          <div className="confirm" role="group" aria-labelledby={confirmTextId}>
            <p id={confirmTextId} className="confirm__text">
              {self
                ? `Delete yourself (${name}), every ping of yours and everything derived from them? This cannot be undone.`
                : `Delete ${name}, every ping of theirs and everything derived from them? This cannot be undone.`}
            </p>
            <div className="confirm__actions">
              <button
                type="button"
                className="button button--small button--danger"
                disabled={deletion.status === "deleting"}
                onClick={() => void confirmDelete()}
              >
                {deletion.status === "deleting" ? "Deleting…" : `Yes, delete ${name}`}
              </button>
              <button
                ref={cancelRef}
                type="button"
                className="button button--small"
                disabled={deletion.status === "deleting"}
                onClick={() => setDeletion({ status: "idle" })}
              >
                Cancel
              </button>
            </div>
          </div>
        )}
        {(deletion.status === "accepted" || deletion.status === "slow") && (
          <div className="deletion-accepted" role="status" data-testid="deletion-status" data-status={deletion.status}>
            <p className="deletion-accepted__title">{acceptedText}</p>
            {self && (
              <p>
                You stay signed in as {session.name}: the list of people still works for you, your own page will not.
              </p>
            )}
            {deletion.status === "accepted" ? (
              <p>Waiting for the deletion to complete…</p>
            ) : (
              <p>
                {name} could still be read {Math.round((pollOptions.timeoutMs ?? 30_000) / 1000)} s later: the deletion is applied
                asynchronously and may be slow; check again in a moment.{" "}
                <Link to="/">All people</Link>
              </p>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
