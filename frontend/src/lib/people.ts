export interface Named {
  first_name: string;
  last_name: string;
}

export function fullName(person: Named): string {
  return `${person.first_name} ${person.last_name}`.trim();
}

/** Up to two letters for an avatar: first and last initials. */
export function initials(person: Named): string {
  const first = [...person.first_name.trim()][0] ?? "";
  const last = [...person.last_name.trim()][0] ?? "";
  return (first + last).toUpperCase() || "?";
}

/** A stable hue (0–359) for a person's avatar, from their id. */
export function hueOf(id: string): number {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 360;
}
