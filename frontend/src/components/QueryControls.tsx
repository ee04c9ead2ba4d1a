import { useId, useState, type FormEvent } from "react";
import {
  DEFAULT_WINDOW_MIN,
  MAX_DISTANCE_M,
  MIN_DISTANCE_M,
  MAX_WINDOW_MIN,
  MIN_WINDOW_MIN,
  toInput,
  validatePersonQuery,
  type PersonQuery,
  type PersonQueryErrors,
  type PersonQueryInput,
} from "../lib/dates";

interface Props {
  /** The values in the URL (possibly invalid: they are shown with their errors). */
  input: PersonQueryInput;
  defaults: PersonQuery;
  onApply: (query: PersonQuery) => void;
}

/** Start, end, distance and window. Nothing is asked of the APIs until the values are valid. */
export function QueryControls({ input, defaults, onApply }: Props) {
  // Re-mounted (by key) when the URL changes, so the form always starts from the URL's values.
  return <QueryForm key={JSON.stringify(input)} input={input} defaults={defaults} onApply={onApply} />;
}

function QueryForm({ input, defaults, onApply }: Props) {
  const id = useId();
  const [start, setStart] = useState(input.start);
  const [end, setEnd] = useState(input.end);
  const [distance, setDistance] = useState(input.distance);
  const noWindowInitially = input.window.trim().toLowerCase() === "none";
  const [anyTime, setAnyTime] = useState(noWindowInitially);
  const [windowMinutes, setWindowMinutes] = useState(noWindowInitially ? String(DEFAULT_WINDOW_MIN) : input.window);
  const [errors, setErrors] = useState<PersonQueryErrors>(() => {
    const initial = validatePersonQuery(input);
    return initial.ok ? {} : initial.errors;
  });

  const current = (): PersonQueryInput => ({ start, end, distance, window: anyTime ? "none" : windowMinutes });

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validatePersonQuery(current());
    if (!result.ok) {
      setErrors(result.errors);
      const first = (["start", "end", "distance", "window"] as const).find((k) => result.errors[k]);
      if (first) document.getElementById(`${id}-${first}`)?.focus();
      return;
    }
    setErrors({});
    onApply(result.query);
  };

  const reset = () => {
    const d = toInput(defaults);
    setStart(d.start);
    setEnd(d.end);
    setDistance(d.distance);
    setAnyTime(defaults.window === null);
    setWindowMinutes(defaults.window === null ? String(DEFAULT_WINDOW_MIN) : d.window);
    setErrors({});
    onApply(defaults);
  };

  const describedBy = (field: keyof PersonQueryInput, hint?: string) =>
    [hint, errors[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(" ") || undefined;

  const fieldError = (field: keyof PersonQueryInput) =>
    errors[field] ? (
      <p className="field__error" id={`${id}-${field}-error`}>
        {errors[field]}
      </p>
    ) : null;

  const invalid = Object.keys(errors).length > 0;

  return (
    <form className="card controls" noValidate onSubmit={onSubmit} aria-label="Encounter query">
      <div className="controls__grid">
        <div className="field">
          <label htmlFor={`${id}-start`}>Start date (UTC)</label>
          <input
            id={`${id}-start`}
            type="date"
            value={start}
            required
            onChange={(e) => setStart(e.target.value)}
            aria-invalid={errors.start ? true : undefined}
            aria-describedby={describedBy("start")}
          />
          {fieldError("start")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-end`}>End date (UTC)</label>
          <input
            id={`${id}-end`}
            type="date"
            value={end}
            min={start || undefined}
            required
            onChange={(e) => setEnd(e.target.value)}
            aria-invalid={errors.end ? true : undefined}
            aria-describedby={describedBy("end")}
          />
          {fieldError("end")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-distance`}>Distance (metres)</label>
          <input
            id={`${id}-distance`}
            type="number"
            inputMode="decimal"
            min={MIN_DISTANCE_M}
            max={MAX_DISTANCE_M}
            step="any"
            value={distance}
            required
            onChange={(e) => setDistance(e.target.value)}
            aria-invalid={errors.distance ? true : undefined}
            aria-describedby={describedBy("distance")}
          />
          {fieldError("distance")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-window`}>Co-presence window (minutes)</label>
          <input
            id={`${id}-window`}
            type="number"
            inputMode="numeric"
            min={MIN_WINDOW_MIN}
            max={MAX_WINDOW_MIN}
            step={1}
            value={windowMinutes}
            disabled={anyTime}
            onChange={(e) => setWindowMinutes(e.target.value)}
            aria-invalid={errors.window ? true : undefined}
            aria-describedby={describedBy("window", `${id}-window-hint`)}
          />
          <label className="checkbox">
            <input type="checkbox" checked={anyTime} onChange={(e) => setAnyTime(e.target.checked)} />
            No window (any time in the range)
          </label>
          <p className="visually-hidden" id={`${id}-window-hint`}>
            The other person must have been there within this many minutes of the same moment.
          </p>
          {fieldError("window")}
        </div>
      </div>
      <div className="controls__actions">
        <button type="submit" className="button button--primary">
          Apply
        </button>
        <button type="button" className="button button--ghost" onClick={reset}>
          Reset to defaults
        </button>
        {invalid && (
          <p className="controls__invalid" role="alert">
            Fix the highlighted values; nothing is fetched until they are valid.
          </p>
        )}
      </div>
    </form>
  );
}
