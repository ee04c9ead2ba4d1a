import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { Identity } from "../config";
import { browserSessionStorage, readChoice, sessionFor, sessionFromIdentity, sessionFromToken, writeChoice, type Choice, type Session } from "./session";

export interface SessionValue {
  identities: readonly Identity[];
  session: Session | null;
  /**
   * New with every sign-in and sign-out, even as the same identity again (after a refused token):
   * it is part of every query key, so nothing fetched as someone else is shown, and all is fetched anew.
   */
  sessionKey: string;
  signInAs: (identity: Identity) => void;
  signInWithToken: (token: string) => void;
  signOut: () => void;
  /** Whether the header's "who are you" panel is open: a refused sign-in elsewhere on the page opens it. */
  chooserOpen: boolean;
  setChooserOpen: (open: boolean) => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({
  identities,
  storage = browserSessionStorage(),
  children,
}: {
  identities: readonly Identity[];
  storage?: Storage | null;
  children: ReactNode;
}) {
  const [state, setState] = useState(() => ({ session: sessionFor(readChoice(storage), identities), serial: 0 }));
  const [chooserOpen, setChooserOpen] = useState(false);

  const choose = useCallback(
    (choice: Choice, session: Session | null) => {
      writeChoice(storage, choice);
      setState((previous) => ({ session, serial: previous.serial + 1 }));
      setChooserOpen(false);
    },
    [storage],
  );
  const signInAs = useCallback((identity: Identity) => choose({ kind: "identity", name: identity.name }, sessionFromIdentity(identity)), [choose]);
  const signInWithToken = useCallback((token: string) => choose({ kind: "token", token }, sessionFromToken(token)), [choose]);
  const signOut = useCallback(() => choose({ kind: "signed-out" }, null), [choose]);

  const value = useMemo<SessionValue>(
    () => ({
      identities,
      session: state.session,
      sessionKey: `session-${state.serial}`,
      signInAs,
      signInWithToken,
      signOut,
      chooserOpen,
      setChooserOpen,
    }),
    [identities, state, signInAs, signInWithToken, signOut, chooserOpen],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
