/** A stand-in for the network: routes requests to handlers and records them. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

export type Handler = (request: Recorded) => Response | Promise<Response>;

export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  const status = init.status ?? 200;
  const contentType = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": contentType, ...init.headers },
  });
}

export function problem(status: number, title: string, detail?: string, errors?: unknown[]): Response {
  return json({ type: "about:blank", title, status, detail, errors }, { status });
}

/** A fetch (as openapi-fetch calls it: with a Request) answering from `handler`. */
export function fakeFetch(handler: Handler) {
  const calls: Recorded[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const recorded: Recorded = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: request.method === "GET" ? "" : await request.text(),
    };
    calls.push(recorded);
    return handler(recorded);
  };
  return { fetch, calls };
}

export const TEST_CONFIG = {
  personApiUrl: "http://person.test",
  locationApiUrl: "http://location.test",
  connectionApiUrl: "http://connection.test",
  venueUrl: null,
  event: { name: "Test conference", startDate: "2026-06-01", endDate: "2026-06-02" },
  identities: [],
} as const;
