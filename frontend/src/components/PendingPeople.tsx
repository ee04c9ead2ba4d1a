import { Link } from "react-router";
import { fullName } from "../lib/people";
import { usePendingWrites, type PendingPerson } from "../pending/PendingWrites";
import { Avatar } from "./Avatar";

const STATUS_TEXT: Record<PendingPerson["status"], string> = {
  pending: "Pending: waiting until it is stored",
  stored: "Stored",
  failed: "Not stored",
};

export function PendingPeople() {
  const { entries, retry, dismiss } = usePendingWrites();
  if (!entries.length) return null;
  return (
    <section className="pending" aria-labelledby="pending-title">
      <h3 id="pending-title" className="pending__title">
        Recently added
      </h3>
      <ul className="pending__list">
        {entries.map(({ person, status, reason }) => {
          const name = fullName(person);
          return (
            <li key={person.id} className={`pending-item pending-item--${status}`} data-testid="pending-person" data-status={status}>
              <Avatar person={person} />
              <div className="pending-item__body">
                <p className="pending-item__name">
                  {status === "stored" ? <Link to={`/persons/${person.id}`}>{name}</Link> : name}
                  <span className="pending-item__company">{person.company_name}</span>
                </p>
                <p className="pending-item__status" role="status">
                  {status === "pending" && <span className="spinner spinner--small" aria-hidden="true" />}
                  <span className={`badge badge--${status}`}>{STATUS_TEXT[status]}</span>
                  <span className="visually-hidden"> ({name})</span>
                </p>
                {status === "failed" && reason && <p className="pending-item__reason">{reason}</p>}
                {status === "failed" && (
                  <div className="pending-item__actions">
                    <button type="button" className="button button--small" onClick={() => retry(person.id)}>
                      Check again
                    </button>
                    <button type="button" className="button button--small button--ghost" onClick={() => dismiss(person.id)}>
                      Dismiss
                    </button>
                  </div>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
