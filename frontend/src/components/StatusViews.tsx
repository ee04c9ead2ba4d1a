import type { ReactNode } from "react";
import { describeError } from "../api/errors";

/** A spinner with a label that screen readers announce. */
export function Loading({ label, inline = false }: { label: string; inline?: boolean }) {
  return (
    <div className={inline ? "loading loading--inline" : "loading"} role="status" aria-label={label}>
      <span className="spinner" aria-hidden="true" />
      <span className="loading__text">{label}…</span>
    </div>
  );
}

/** Grey placeholder lines while a list loads. */
export function SkeletonRows({ label, rows = 6 }: { label: string; rows?: number }) {
  return (
    <div className="skeleton" role="status" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => (
        <span key={i} className="skeleton__row" aria-hidden="true" style={{ width: `${92 - ((i * 17) % 30)}%` }} />
      ))}
      <span className="visually-hidden">{label}…</span>
    </div>
  );
}

/** A readable failure: which service, the problem's detail, and a Retry button. */
export function ErrorMessage({
  error,
  onRetry,
  retrying = false,
  title,
  compact = false,
}: {
  error: unknown;
  onRetry?: () => void;
  retrying?: boolean;
  title?: string;
  compact?: boolean;
}) {
  const described = describeError(error);
  return (
    <div className={compact ? "error-box error-box--compact" : "error-box"} role="alert" data-testid="error-message">
      <svg className="error-box__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="10" fill="currentColor" />
        <path d="M12 6.5v7" stroke="#fff" strokeWidth="2.4" strokeLinecap="round" />
        <circle cx="12" cy="17.2" r="1.4" fill="#fff" />
      </svg>
      <div className="error-box__body">
        <p className="error-box__title">{title ?? described.title}</p>
        <p className="error-box__detail">{described.detail}</p>
        {onRetry && (
          <button type="button" className="button button--small" onClick={onRetry} disabled={retrying}>
            {retrying ? "Retrying…" : "Retry"}
          </button>
        )}
      </div>
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <div className="empty">
      <svg className="empty__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <circle cx="9" cy="12" r="5" fill="none" stroke="currentColor" strokeWidth="1.8" />
        <circle cx="15" cy="12" r="5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeDasharray="2.5 2.5" />
      </svg>
      <p>{children}</p>
    </div>
  );
}
