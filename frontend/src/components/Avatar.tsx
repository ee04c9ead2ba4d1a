import { hueOf, initials, type Named } from "../lib/people";

export function Avatar({ person, size = "md" }: { person: Named & { id: string }; size?: "sm" | "md" }) {
  const hue = hueOf(person.id);
  return (
    <span
      className={`avatar avatar--${size}`}
      aria-hidden="true"
      style={{ backgroundColor: `hsl(${hue} 70% 90%)`, color: `hsl(${hue} 60% 25%)` }}
    >
      {initials(person)}
    </span>
  );
}
