/**
 * Who the app acts as: one of config.json's identities, a bearer token pasted by hand (production,
 * where tokens come from the organisation's identity provider), or nobody. The choice is kept in
 * sessionStorage: a reload keeps it, a new tab starts afresh, and closing the tab forgets the token.
 *
 * The app never verifies a token: the APIs do. It only reads a pasted token's claims to say whose
 * it is in the header.
 */
import type { Identity, Role } from "../config";

export interface Session {
  /** Who, as shown in the header. */
  name: string;
  /** null: a pasted token that names no role the app knows. */
  role: Role | null;
  /** The person an attendee is (their token's subject): their own page is "My connections". */
  personId: string | null;
  token: string;
  source: "configured" | "pasted";
}

/** What is stored: a configured identity by name (its token may change between runs), a pasted token, or a sign-out. */
export type Choice = { kind: "identity"; name: string } | { kind: "token"; token: string } | { kind: "signed-out" };

export const STORAGE_KEY = "udaconnect.identity";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The stored choice; null when there is none, it is unreadable, or storage is off (private modes may throw). */
export function readChoice(storage: Storage | null): Choice | null {
  let raw: string | null;
  try {
    raw = storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
  if (!raw) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if (value.kind === "identity" && typeof value.name === "string") return { kind: "identity", name: value.name };
  if (value.kind === "token" && typeof value.token === "string" && value.token) return { kind: "token", token: value.token };
  if (value.kind === "signed-out") return { kind: "signed-out" };
  return null;
}

export function writeChoice(storage: Storage | null, choice: Choice): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(choice));
  } catch {
    // Storage off or full: the choice holds until the page is reloaded, which is all we can do.
  }
}

/** sessionStorage, or null where reading it throws (storage disabled). */
export function browserSessionStorage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

/** The payload of a JWT, unverified; null when the token is not a JWT with a JSON payload. */
export function readClaims(token: string): Record<string, unknown> | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isRecord(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** The role a token's claims give: `roles` (a list or a space-separated string, as the APIs read it) or `role`. */
function roleOf(claims: Record<string, unknown>): Role | null {
  const raw = claims.roles ?? claims.role;
  const roles = typeof raw === "string" ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
  // Organizer wins: the APIs let a token with both do everything.
  if (roles.includes("organizer")) return "organizer";
  if (roles.includes("attendee")) return "attendee";
  return null;
}

export function sessionFromIdentity(identity: Identity): Session {
  return { name: identity.name, role: identity.role, personId: identity.personId, token: identity.token, source: "configured" };
}

export function sessionFromToken(token: string): Session {
  const claims = readClaims(token) ?? {};
  const role = roleOf(claims);
  const subject = typeof claims.sub === "string" && claims.sub ? claims.sub : null;
  const named = [claims.name, claims.preferred_username, claims.email].find((v): v is string => typeof v === "string" && v !== "");
  return {
    name: named ?? subject ?? "a pasted token",
    role,
    // An attendee's subject is their person id (what the APIs check them against).
    personId: role === "attendee" ? subject : null,
    token,
    source: "pasted",
  };
}

/**
 * The session a stored choice stands for. Nothing stored: the first configured identity (local runs
 * open as the organizer), else nobody. A configured name that is gone falls back the same way.
 */
export function sessionFor(choice: Choice | null, identities: readonly Identity[]): Session | null {
  if (choice?.kind === "signed-out") return null;
  if (choice?.kind === "token") return sessionFromToken(choice.token);
  const chosen = choice?.kind === "identity" ? identities.find((identity) => identity.name === choice.name) : undefined;
  const identity = chosen ?? identities[0];
  return identity ? sessionFromIdentity(identity) : null;
}

/** A token as pasted: "Bearer " and surrounding space removed. Answers the token or what is wrong with it. */
export function checkPastedToken(input: string): { token: string } | { problem: string } {
  const token = input.trim().replace(/^Bearer\s+/i, "");
  if (!token) return { problem: "Paste a token first." };
  if (/\s/.test(token)) return { problem: "A token has no spaces or line breaks: paste it again." };
  return { token };
}

/** "Ada Lovelace (attendee)": the name, and the role unless the name already says it. */
export function describeSession(session: Session): string {
  if (!session.role) return `${session.name} (no role in the token)`;
  return session.name.toLowerCase().includes(session.role) ? session.name : `${session.name} (${session.role})`;
}
