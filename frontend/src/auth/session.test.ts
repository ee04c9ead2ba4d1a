import { describe, expect, it } from "vitest";
import type { Identity } from "../config";
import {
  checkPastedToken,
  describeSession,
  readChoice,
  readClaims,
  sessionFor,
  sessionFromToken,
  STORAGE_KEY,
  writeChoice,
} from "./session";

const organizer: Identity = { name: "Organizer", role: "organizer", personId: null, token: "org.token.sig" };
const attendee: Identity = { name: "Ada Lovelace (attendee)", role: "attendee", personId: "p1", token: "att.token.sig" };

/** A JWT as an identity provider would send it (the signature is not looked at). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "ES256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe("the stored choice", () => {
  it("round-trips through storage", () => {
    for (const choice of [{ kind: "identity", name: "Organizer" }, { kind: "token", token: "t" }, { kind: "signed-out" }] as const) {
      writeChoice(sessionStorage, choice);
      expect(readChoice(sessionStorage)).toEqual(choice);
    }
  });

  it("is none when absent, unreadable or when storage throws", () => {
    expect(readChoice(sessionStorage)).toBeNull();
    sessionStorage.setItem(STORAGE_KEY, "{not json");
    expect(readChoice(sessionStorage)).toBeNull();
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ kind: "token", token: "" }));
    expect(readChoice(sessionStorage)).toBeNull();
    const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("denied"); } } as unknown as Storage;
    expect(readChoice(broken)).toBeNull();
    expect(() => writeChoice(broken, { kind: "signed-out" })).not.toThrow();
    expect(readChoice(null)).toBeNull();
  });
});

describe("sessionFor", () => {
  it("is the first configured identity when nothing is stored, else nobody", () => {
    expect(sessionFor(null, [organizer, attendee])).toMatchObject({ name: "Organizer", role: "organizer", token: "org.token.sig", source: "configured" });
    expect(sessionFor(null, [])).toBeNull();
  });

  it("finds a stored identity by name, and falls back to the first when it is gone", () => {
    expect(sessionFor({ kind: "identity", name: attendee.name }, [organizer, attendee])).toMatchObject({ role: "attendee", personId: "p1" });
    expect(sessionFor({ kind: "identity", name: "Someone gone" }, [organizer, attendee])?.name).toBe("Organizer");
  });

  it("keeps a sign-out, even with identities configured", () => {
    expect(sessionFor({ kind: "signed-out" }, [organizer])).toBeNull();
  });
});

describe("a pasted token", () => {
  it("says whose it is from its claims", () => {
    const token = jwt({ sub: "7f1c4c2e-0000-4000-8000-000000000001", roles: ["attendee"], exp: 1 });
    expect(readClaims(token)).toMatchObject({ sub: "7f1c4c2e-0000-4000-8000-000000000001" });
    expect(sessionFromToken(token)).toEqual({
      name: "7f1c4c2e-0000-4000-8000-000000000001",
      role: "attendee",
      personId: "7f1c4c2e-0000-4000-8000-000000000001",
      token,
      source: "pasted",
    });
    expect(sessionFromToken(jwt({ sub: "u1", name: "Grace Hopper", roles: "attendee organizer" }))).toMatchObject({ name: "Grace Hopper", role: "organizer", personId: null });
    expect(sessionFromToken(jwt({ sub: "u2", role: "attendee" })).role).toBe("attendee");
  });

  it("is still usable when it is not a readable JWT (the APIs decide)", () => {
    expect(readClaims("opaque-token")).toBeNull();
    expect(sessionFromToken("opaque-token")).toMatchObject({ name: "a pasted token", role: null, personId: null, token: "opaque-token" });
  });

  it("is checked and cleaned before use", () => {
    expect(checkPastedToken("  Bearer abc.def.ghi \n")).toEqual({ token: "abc.def.ghi" });
    expect(checkPastedToken("   ")).toEqual({ problem: "Paste a token first." });
    expect(checkPastedToken("abc def")).toHaveProperty("problem");
  });
});

describe("describeSession", () => {
  it("names the role unless the name already says it", () => {
    expect(describeSession({ name: "Organizer", role: "organizer", personId: null, token: "t", source: "configured" })).toBe("Organizer");
    expect(describeSession({ name: "Ada Lovelace (attendee)", role: "attendee", personId: "p1", token: "t", source: "configured" })).toBe("Ada Lovelace (attendee)");
    expect(describeSession({ name: "Grace", role: "organizer", personId: null, token: "t", source: "pasted" })).toBe("Grace (organizer)");
    expect(describeSession({ name: "u1", role: null, personId: null, token: "t", source: "pasted" })).toBe("u1 (no role in the token)");
  });
});
