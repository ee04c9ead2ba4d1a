/** What the people list says after a person was deleted: passed as the router's location state. */
export interface DeletedNotice {
  deleted: { name: string; self: boolean; signedInAs: string };
}

export function isDeletedNotice(state: unknown): state is DeletedNotice {
  if (typeof state !== "object" || state === null || !("deleted" in state)) return false;
  const deleted = (state as { deleted: unknown }).deleted;
  if (typeof deleted !== "object" || deleted === null) return false;
  const { name, self, signedInAs } = deleted as Record<string, unknown>;
  return typeof name === "string" && typeof self === "boolean" && typeof signedInAs === "string";
}
