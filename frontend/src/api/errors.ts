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
  /** When the answer came (ms since the epoch), to count Retry-After down from; now by default. */
  receivedAt?: number;
}

export class ApiError extends Error {
  readonly service: ServiceName;
  readonly status: number | null;
  readonly title: string;
  readonly detail: string | undefined;
  readonly fieldErrors: FieldError[];
  readonly retryAfterSeconds: number | undefined;
  /** When asking again may work (ms since the epoch), from Retry-After. */
  readonly retryAt: number | undefined;
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
    this.retryAt = init.retryAfterSeconds === undefined ? undefined : (init.receivedAt ?? Date.now()) + init.retryAfterSeconds * 1000;
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

  /** No token, or one the service does not accept (missing, expired, invalid). */
  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  /** A valid token that may not do this (an attendee reading someone else's data). */
  get isForbidden(): boolean {
    return this.status === 403;
  }

  get isRateLimited(): boolean {
    return this.status === 429;
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

/** What a panel can offer: sign in again, nothing (not allowed), wait, or retry. */
export type ErrorKind = "unauthorized" | "forbidden" | "rate-limited" | "other";

export interface DescribedError {
  title: string;
  detail: string;
  kind: ErrorKind;
}

export interface DescribeContext {
  /** Who is signed in, as the header says it ("Ada Lovelace (attendee)"); null: nobody; undefined: not known. */
  signedInAs?: string | null | undefined;
  /** For the Retry-After countdown. */
  now?: number;
}

export const SIGN_IN_REFUSED = "Your sign-in was refused (missing, expired or invalid token). Choose who you are again.";

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function describeRefusal(error: ApiError, signedInAs: string | null | undefined): DescribedError {
  if (signedInAs === null) {
    return { kind: "unauthorized", title: "Not signed in", detail: "This needs a sign-in. Choose who you are, or use a token." };
  }
  // The service's reason ("the token has expired") helps whoever pasted the token.
  const reason = error.detail ? ` The ${error.serviceLabel.toLowerCase()} said: ${sentence(error.detail)}` : "";
  return { kind: "unauthorized", title: "Sign-in refused", detail: SIGN_IN_REFUSED + reason };
}

function describeForbidden(error: ApiError, signedInAs: string | null | undefined): DescribedError {
  const who = signedInAs ? ` You are signed in as ${signedInAs}.` : signedInAs === null ? " You are not signed in." : "";
  return { kind: "forbidden", title: "You may not see this", detail: sentence(error.detail ?? "The service does not allow it") + who };
}

function describeRateLimit(error: ApiError, now: number): DescribedError {
  const title = `${error.serviceLabel}: rate limit reached`;
  if (error.retryAt === undefined) return { kind: "rate-limited", title, detail: "Too many requests, try again in a moment." };
  const seconds = Math.ceil((error.retryAt - now) / 1000);
  const detail = seconds > 0 ? `Too many requests, try again in ${seconds} s.` : "Too many requests a moment ago; you can try again now.";
  return { kind: "rate-limited", title, detail };
}

/** Any thrown value as something with a readable title and detail (for error panels). */
export function describeError(error: unknown, { signedInAs, now = Date.now() }: DescribeContext = {}): DescribedError {
  if (isApiError(error)) {
    if (error.isUnauthorized) return describeRefusal(error, signedInAs);
    if (error.isForbidden) return describeForbidden(error, signedInAs);
    if (error.isRateLimited) return describeRateLimit(error, now);
    const title = error.isNetworkError ? error.title : `${error.serviceLabel}: ${error.title}`;
    return { kind: "other", title, detail: error.detail ?? error.title };
  }
  if (error instanceof Error) return { kind: "other", title: "Something went wrong", detail: error.message };
  return { kind: "other", title: "Something went wrong", detail: String(error) };
}
