import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, useLocation } from "react-router";
import { AppServicesProvider } from "../api/context";
import { retryDelay, shouldRetry } from "../api/queries";
import { SessionProvider } from "../auth/SessionProvider";
import type { RuntimeConfig } from "../config";
import type { PollOptions } from "../lib/pendingWrite";
import { PendingWritesProvider } from "../pending/PendingWrites";
import { TEST_CONFIG } from "./fakeFetch";

/** Shows the router's current URL, so tests can check what a page wrote into it. */
function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

export function renderWithApp(
  ui: ReactNode,
  {
    fetch,
    route = "/",
    config = TEST_CONFIG,
    pollOptions,
  }: {
    fetch: (request: Request) => Promise<Response>;
    route?: string;
    config?: RuntimeConfig;
    pollOptions?: PollOptions;
  },
) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: (n, e) => shouldRetry(n, e) && n < 1, retryDelay: (n, e) => Math.min(retryDelay(n, e), 10) } },
  });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider identities={config.identities}>
        <AppServicesProvider config={config} fetch={fetch}>
          <PendingWritesProvider pollOptions={pollOptions}>
            <MemoryRouter initialEntries={[route]}>
              {ui}
              <LocationProbe />
            </MemoryRouter>
          </PendingWritesProvider>
        </AppServicesProvider>
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}
