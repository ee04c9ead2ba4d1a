/**
 * One error type for everything that can go wrong when talking to a service: an RFC 9457 problem
 * document, a response that is not one, or a service that cannot be reached at all. It always says
 * which service, so a page can tell the person what failed and what still works.
 */

export type ServiceName = "person" | "location" | "connection" | "venue";

export const SERVICE_LABELS: Record<ServiceName, string> = {
  person: "Person service",
  location: "Location service",
  connection: "Connection service",
  venue: "Venue floor plan",
};

export interface FieldError {
  /** The field's name as the API knows it, e.g. `first_name`; "" when the problem names none. */
  field: string;
  message: string;
}

interface ApiErrorInit {
  service: ServiceName;
  /** The HTTP status; null when no answer came (network failure, CORS refusal, DNS …). */
  status: number | null;
  title: string;
  detail?: string | undefined;
  fieldErrors?: FieldError[];
  retryAfterSeconds?: number | undefined;
  url?: string | undefined;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly service: ServiceName;
  readonly status: number | null;
  readonly title: string;
  readonly detail: string | undefined;
  readonly fieldErrors: FieldError[];
  readonly retryAfterSeconds: number | undefined;
  readonly url: string | undefined;

  constructor(init: ApiErrorInit) {
    super(`${SERVICE_LABELS[init.service]}: ${init.detail ?? init.title}`, { cause: init.cause });
    this.name = "ApiError";
    this.service = init.service;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.url = init.url;
  }

  get serviceLabel(): string {
    return SERVICE_LABELS[this.service];
  }

  /** No answer at all: the service is down or unreachable. */
  get isNetworkError(): boolean {
    return this.status === null;
  }

  /** A 4xx: asking again the same way will not help (except 408 and 429). */
  get isClientError(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `errors[]` of a 422 (`{loc: ["body", "first_name"], msg}`) as field errors. */
export function fieldErrorsOf(problem: unknown): FieldError[] {
  if (!isRecord(problem) || !Array.isArray(problem.errors)) return [];
  const out: FieldError[] = [];
  for (const item of problem.errors) {
    if (!isRecord(item)) continue;
    const message = typeof item.msg === "string" ? item.msg : typeof item.message === "string" ? item.message : "";
    if (!message) continue;
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const last = [...loc].reverse().find((part) => typeof part === "string" && !["body", "query", "path", "header"].includes(part));
    out.push({ field: typeof last === "string" ? last : "", message });
  }
  return out;
}

/** `Retry-After` in seconds (a delay or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** An error answer (status >= 400) as an ApiError; `body` is what the client parsed from it. */
export function errorFromResponse(service: ServiceName, response: Response, body: unknown): ApiError {
  const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
  const statusText = response.statusText ? ` ${response.statusText}` : "";
  let title = `HTTP ${response.status}${statusText}`;
  let detail: string | undefined;
  if (isRecord(body)) {
    if (typeof body.title === "string" && body.title) title = body.title;
    if (typeof body.detail === "string" && body.detail) detail = body.detail;
  }
  if (!detail) {
    detail =
      response.status === 503
        ? `The ${SERVICE_LABELS[service].toLowerCase()} is temporarily unavailable.`
        : `The ${SERVICE_LABELS[service].toLowerCase()} answered ${response.status}${statusText}.`;
  }
  if (retryAfter !== undefined && response.status === 503) detail += ` Try again in ${retryAfter} s.`;
  return new ApiError({
    service,
    status: response.status,
    title,
    detail,
    fieldErrors: fieldErrorsOf(body),
    retryAfterSeconds: retryAfter,
    url: response.url || undefined,
  });
}

/** No answer: fetch threw. The message names the service and where it was looked for. */
export function networkError(service: ServiceName, baseUrl: string, cause: unknown): ApiError {
  return new ApiError({
    service,
    status: null,
    title: `${SERVICE_LABELS[service]} unreachable`,
    detail: `Cannot reach the ${SERVICE_LABELS[service].toLowerCase()} at ${baseUrl}. It may be down or restarting; try again in a moment.`,
    url: baseUrl,
    cause,
  });
}

export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof DOMException && error.name === "AbortError") ||
    (isRecord(error) && (error as { name?: unknown }).name === "AbortError")
  );
}

/** Any thrown value as something with a readable title and detail (for error panels). */
export function describeError(error: unknown): { title: string; detail: string } {
  if (isApiError(error)) {
    const title = error.isNetworkError ? error.title : `${error.serviceLabel}: ${error.title}`;
    return { title, detail: error.detail ?? error.title };
  }
  if (error instanceof Error) return { title: "Something went wrong", detail: error.message };
  return { title: "Something went wrong", detail: String(error) };
}
