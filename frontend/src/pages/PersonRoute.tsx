/**
 * The person page's route. Kept in the first bundle and small: it reads the query from the URL,
 * starts the page's requests at once (in parallel), and lazily loads the page itself (with the map
 * library) meanwhile.
 */
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useEffect, useMemo } from "react";
import { useParams, useSearchParams } from "react-router";
import { useAppServices } from "../api/context";
import { prefetchPersonPage } from "../api/queries";
import { Loading } from "../components/StatusViews";
import { defaultPersonQuery, readPersonSearch, writeInputSearch, writePersonSearch, type PersonQuery } from "../lib/dates";

const PersonPage = lazy(() => import("./PersonPage"));

export function PersonRoute() {
  const { id = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const { config, api } = useAppServices();
  const queryClient = useQueryClient();
  const defaults = useMemo(() => defaultPersonQuery(config.event), [config.event]);
  const { input, result, complete } = readPersonSearch(params, defaults);
  const canonical = writeInputSearch(input).toString();

  // A URL without some of the values gets the defaults written in, so it can be shared as is.
  useEffect(() => {
    if (!complete) setParams(new URLSearchParams(canonical), { replace: true });
  }, [complete, canonical, setParams]);

  // Keyed by value, not by object identity: the same query must not prefetch again.
  const queryJson = result.ok ? JSON.stringify(result.query) : null;
  useEffect(() => {
    if (queryJson && id) prefetchPersonPage(queryClient, api, id, JSON.parse(queryJson) as PersonQuery, config.venueUrl);
  }, [queryClient, api, id, queryJson, config.venueUrl]);

  const onQueryChange = useCallback((next: PersonQuery) => setParams(writePersonSearch(next)), [setParams]);

  return (
    <Suspense fallback={<Loading label="Loading the person's page" />}>
      <PersonPage id={id} input={input} result={result} defaults={defaults} onQueryChange={onQueryChange} />
    </Suspense>
  );
}
