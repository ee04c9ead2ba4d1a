/**
 * Persons accepted by the API (202) but perhaps not stored yet. Each one is polled with
 * GET /api/persons/{id} until it can be read back; the state lives above the router so that it
 * survives moving between pages.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { getPerson, type Person } from "../api/client";
import { useAppServices } from "../api/context";
import { describeError, isApiError } from "../api/errors";
import { personQueryOptions, personsListKey } from "../api/queries";
import { pollUntilReadable, type PollOptions } from "../lib/pendingWrite";

export type PendingStatus = "pending" | "stored" | "failed";

export interface PendingPerson {
  person: Person;
  status: PendingStatus;
  reason?: string;
}

interface PendingWrites {
  entries: PendingPerson[];
  track: (person: Person) => void;
  retry: (id: string) => void;
  dismiss: (id: string) => void;
}

const PendingWritesContext = createContext<PendingWrites | null>(null);

export function PendingWritesProvider({ children, pollOptions }: { children: ReactNode; pollOptions?: PollOptions }) {
  const { api } = useAppServices();
  const queryClient = useQueryClient();
  const [entries, setEntries] = useState<PendingPerson[]>([]);
  const controllers = useRef(new Map<string, AbortController>());

  // Someone else signed in (or nobody): what the previous identity was waiting for is not theirs to
  // see, and its polls must stop sending the previous token. (State adjusted while rendering, as
  // React recommends for state that follows a prop; the polls stop in the effect's cleanup.)
  const [owner, setOwner] = useState(api);
  if (owner !== api) {
    setOwner(api);
    setEntries([]);
  }

  useEffect(() => {
    const running = controllers.current;
    return () => {
      for (const controller of running.values()) controller.abort();
      running.clear();
    };
  }, [api]);

  const update = useCallback((id: string, change: Partial<PendingPerson>) => {
    setEntries((all) => all.map((entry) => (entry.person.id === id ? { ...entry, ...change } : entry)));
  }, []);

  const poll = useCallback(
    (person: Person) => {
      controllers.current.get(person.id)?.abort();
      const controller = new AbortController();
      controllers.current.set(person.id, controller);
      void pollUntilReadable(
        async (signal) => {
          try {
            return await getPerson(api, person.id, signal);
          } catch (error) {
            if (isApiError(error) && error.isNotFound) return undefined;
            throw error;
          }
        },
        { ...pollOptions, signal: controller.signal, describe: (error) => describeError(error).detail },
      ).then((outcome) => {
        if (controller.signal.aborted) return;
        controllers.current.delete(person.id);
        if (outcome.status === "stored") {
          update(person.id, { status: "stored", person: outcome.value, reason: undefined });
          queryClient.setQueryData(personQueryOptions(api, person.id).queryKey, outcome.value);
          void queryClient.invalidateQueries({ queryKey: personsListKey(api) });
        } else {
          update(person.id, { status: "failed", reason: outcome.reason });
        }
      });
    },
    [api, pollOptions, queryClient, update],
  );

  const track = useCallback(
    (person: Person) => {
      setEntries((all) => [{ person, status: "pending" }, ...all.filter((e) => e.person.id !== person.id)]);
      poll(person);
    },
    [poll],
  );

  const retry = useCallback(
    (id: string) => {
      const entry = entries.find((e) => e.person.id === id);
      if (!entry) return;
      update(id, { status: "pending", reason: undefined });
      poll(entry.person);
    },
    [entries, poll, update],
  );

  const dismiss = useCallback((id: string) => {
    controllers.current.get(id)?.abort();
    controllers.current.delete(id);
    setEntries((all) => all.filter((e) => e.person.id !== id));
  }, []);

  const value = useMemo(() => ({ entries, track, retry, dismiss }), [entries, track, retry, dismiss]);
  return <PendingWritesContext.Provider value={value}>{children}</PendingWritesContext.Provider>;
}

export function usePendingWrites(): PendingWrites {
  const value = useContext(PendingWritesContext);
  if (!value) throw new Error("usePendingWrites outside PendingWritesProvider");
  return value;
}
