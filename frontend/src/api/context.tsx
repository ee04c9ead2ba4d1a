import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useMemo, type ReactNode } from "react";
import { useSession } from "../auth/SessionProvider";
import type { RuntimeConfig } from "../config";
import { createApiClients, type ApiClients } from "./client";
import { forgetOtherSessions } from "./queries";

export interface AppServices {
  config: RuntimeConfig;
  api: ApiClients;
}

const AppServicesContext = createContext<AppServices | null>(null);

/**
 * The config and the API clients of whoever is signed in (inside a SessionProvider): new clients,
 * with the new token and session key, each time that changes. `fetch` stands in for the network in tests.
 */
export function AppServicesProvider({
  config,
  fetch,
  children,
}: {
  config: RuntimeConfig;
  fetch?: (request: Request) => Promise<Response>;
  children: ReactNode;
}) {
  const { session, sessionKey } = useSession();
  const token = session?.token ?? null;
  const value = useMemo(
    () => ({ config, api: createApiClients(config, fetch, { token, sessionKey }) }),
    [config, fetch, token, sessionKey],
  );
  const queryClient = useQueryClient();
  // Signed out or someone else: what the previous session was answered is dropped, not kept around.
  useEffect(() => forgetOtherSessions(queryClient, sessionKey), [queryClient, sessionKey]);
  return <AppServicesContext.Provider value={value}>{children}</AppServicesContext.Provider>;
}

export function useAppServices(): AppServices {
  const services = useContext(AppServicesContext);
  if (!services) throw new Error("useAppServices outside AppServicesProvider");
  return services;
}
