import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { BrowserRouter, Link, Route, Routes } from "react-router";
import { AppServicesProvider } from "./api/context";
import { SessionProvider } from "./auth/SessionProvider";
import { Layout } from "./components/Layout";
import { EmptyState } from "./components/StatusViews";
import type { RuntimeConfig } from "./config";
import { useDocumentTitle } from "./lib/useDocumentTitle";
import { PendingWritesProvider } from "./pending/PendingWrites";
import { PeoplePage } from "./pages/PeoplePage";
import { PersonRoute } from "./pages/PersonRoute";

export function AppRoutes() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<PeoplePage />} />
        <Route path="/persons/:id" element={<PersonRoute />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Layout>
  );
}

function NotFoundPage() {
  useDocumentTitle("Page not found");
  return (
    <div className="page">
      <h1>Page not found</h1>
      <EmptyState>
        There is nothing at this address. <Link to="/">See everyone</Link>.
      </EmptyState>
    </div>
  );
}

export function App({ config, queryClient }: { config: RuntimeConfig; queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider identities={config.identities}>
        <AppServicesProvider config={config}>
          <PendingWritesProvider>
            <BrowserRouter>
              <AppRoutes />
            </BrowserRouter>
          </PendingWritesProvider>
        </AppServicesProvider>
      </SessionProvider>
    </QueryClientProvider>
  );
}
