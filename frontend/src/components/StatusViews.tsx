import type { ReactNode } from "react";
import { describeError, isApiError } from "../api/errors";
import { useSession } from "../auth/SessionProvider";
import { describeSession } from "../auth/session";
import { useNow } from "../lib/useNow";

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

/**
 * A readable failure: which service, the problem's detail, and what can be done. A refused sign-in
 * (401) offers to choose who you are; a refusal (403) says as whom you asked, and has no Retry (the
 * same question gets the same answer); a rate limit (429) counts its wait down before Retry.
 */
export function ErrorMessage({
  error,
  onRetry,
  retrying = false,
  title,
  compact = false,
  children,
}: {
  error: unknown;
  onRetry?: () => void;
  retrying?: boolean;
  title?: string;
  compact?: boolean;
  /** More to offer under the detail (a link elsewhere). */
  children?: ReactNode;
}) {
  const { session, setChooserOpen } = useSession();
  const retryAt = isApiError(error) && error.isRateLimited ? error.retryAt : undefined;
  const now = useNow(retryAt);
  const described = describeError(error, { signedInAs: session ? describeSession(session) : null, now });
  const waiting = retryAt !== undefined && retryAt > now;
  return (
    <div className={compact ? "error-box error-box--compact" : "error-box"} role="alert" data-testid="error-message" data-kind={described.kind}>
      <svg className="error-box__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="10" fill="currentColor" />
        <path d="M12 6.5v7" stroke="#fff" strokeWidth="2.4" strokeLinecap="round" />
        <circle cx="12" cy="17.2" r="1.4" fill="#fff" />
      </svg>
      <div className="error-box__body">
        <p className="error-box__title">{title ?? described.title}</p>
        <p className="error-box__detail">{described.detail}</p>
        {children}
        {described.kind === "unauthorized" ? (
          <button type="button" className="button button--small" onClick={() => setChooserOpen(true)}>
            Choose who you are
          </button>
        ) : (
          described.kind !== "forbidden" &&
          onRetry && (
            <button type="button" className="button button--small" onClick={onRetry} disabled={retrying || waiting}>
              {retrying ? "Retrying…" : "Retry"}
            </button>
          )
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
