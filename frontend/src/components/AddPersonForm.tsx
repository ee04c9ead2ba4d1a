import { useId, useRef, useState, type FormEvent } from "react";
import { createPerson, type PersonCreate } from "../api/client";
import { useAppServices } from "../api/context";
import { isApiError } from "../api/errors";
import { useSession } from "../auth/SessionProvider";
import { describeSession } from "../auth/session";
import { newIdempotencyKey } from "../lib/ids";
import { usePendingWrites } from "../pending/PendingWrites";
import { ErrorMessage } from "./StatusViews";

type FieldName = keyof PersonCreate;

const FIELDS: ReadonlyArray<{ name: FieldName; label: string; autoComplete: string }> = [
  { name: "first_name", label: "First name", autoComplete: "given-name" },
  { name: "last_name", label: "Last name", autoComplete: "family-name" },
  { name: "company_name", label: "Company", autoComplete: "organization" },
];

const MAX_LENGTH = 100;
const EMPTY: PersonCreate = { first_name: "", last_name: "", company_name: "" };

type FieldErrors = Partial<Record<FieldName, string>>;

export function validatePerson(values: PersonCreate): FieldErrors {
  const errors: FieldErrors = {};
  for (const { name, label } of FIELDS) {
    const value = values[name].trim();
    if (!value) errors[name] = `${label} is required.`;
    else if (value.length > MAX_LENGTH) errors[name] = `${label} can be at most ${MAX_LENGTH} characters.`;
  }
  return errors;
}

function isField(name: string): name is FieldName {
  return FIELDS.some((f) => f.name === name);
}

/** The form, or for an attendee why there is none: adding people is for organizers (the API answers 403). */
export function AddPersonForm() {
  const { session } = useSession();
  if (session?.role === "attendee") return <OrganizersOnly signedInAs={describeSession(session)} />;
  return <PersonForm />;
}

function OrganizersOnly({ signedInAs }: { signedInAs: string }) {
  const id = useId();
  return (
    <section className="form" aria-labelledby={`${id}-title`} data-testid="add-person-organizers-only">
      <h2 id={`${id}-title`} className="card__title">
        Add a person
      </h2>
      <p className="form__hint">
        Only organizers can add people. You are signed in as {signedInAs}; to add someone, sign in as an organizer.
      </p>
    </section>
  );
}

function PersonForm() {
  const { api } = useAppServices();
  const { track } = usePendingWrites();
  const id = useId();
  const [values, setValues] = useState<PersonCreate>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const inputs = useRef<Partial<Record<FieldName, HTMLInputElement | null>>>({});
  // One key per distinct submission: resending the same values after a failure reuses it, so a
  // request that did reach the server cannot create a second person.
  const attempt = useRef<{ key: string; body: string } | null>(null);

  const focusFirstError = (errors: FieldErrors) => {
    const first = FIELDS.find((f) => errors[f.name]);
    if (first) inputs.current[first.name]?.focus();
  };

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (submitting) return;
    const body: PersonCreate = {
      first_name: values.first_name.trim(),
      last_name: values.last_name.trim(),
      company_name: values.company_name.trim(),
    };
    const errors = validatePerson(body);
    setFieldErrors(errors);
    setFormError(null);
    if (Object.keys(errors).length) {
      focusFirstError(errors);
      return;
    }
    const serialized = JSON.stringify(body);
    if (!attempt.current || attempt.current.body !== serialized) attempt.current = { key: newIdempotencyKey(), body: serialized };
    setSubmitting(true);
    try {
      const person = await createPerson(api, body, attempt.current.key);
      attempt.current = null;
      setValues(EMPTY);
      track(person);
      inputs.current.first_name?.focus();
    } catch (error) {
      if (isApiError(error) && error.status === 422 && error.fieldErrors.length) {
        const serverErrors: FieldErrors = {};
        const other: string[] = [];
        for (const { field, message } of error.fieldErrors) {
          if (isField(field)) serverErrors[field] ??= message;
          else other.push(message);
        }
        setFieldErrors(serverErrors);
        if (other.length || !Object.keys(serverErrors).length) setFormError(error);
        focusFirstError(serverErrors);
        // A rejected body was not accepted: a corrected one gets a new key anyway.
      } else {
        setFormError(error);
      }
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form className="form" noValidate onSubmit={onSubmit} data-testid="add-person-form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card__title">
        Add a person
      </h2>
      <p className="form__hint">New attendees appear as pending until the system has stored them.</p>
      {FIELDS.map(({ name, label, autoComplete }) => {
        const error = fieldErrors[name];
        const inputId = `${id}-${name}`;
        return (
          <div className="field" key={name}>
            <label htmlFor={inputId}>
              {label} <span className="field__required" aria-hidden="true">*</span>
            </label>
            <input
              ref={(el) => {
                inputs.current[name] = el;
              }}
              id={inputId}
              name={name}
              type="text"
              autoComplete={autoComplete}
              required
              maxLength={MAX_LENGTH}
              value={values[name]}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${inputId}-error` : undefined}
              onChange={(e) => {
                const value = e.target.value;
                setValues((v) => ({ ...v, [name]: value }));
                if (fieldErrors[name]) setFieldErrors((errs) => ({ ...errs, [name]: undefined }));
              }}
            />
            {error && (
              <p className="field__error" id={`${inputId}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
      {formError !== null && (
        <ErrorMessage
          error={formError}
          // A refused write: "see" (the default for a refusal) would be the wrong word.
          title={isApiError(formError) && formError.isForbidden ? "You may not add people" : undefined}
          compact
        />
      )}
      <button type="submit" className="button button--primary" disabled={submitting}>
        {submitting ? "Adding…" : "Add person"}
      </button>
    </form>
  );
}
