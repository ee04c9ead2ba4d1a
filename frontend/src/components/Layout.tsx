import { useEffect, useRef, type ReactNode } from "react";
import { NavLink, useLocation } from "react-router";
import { useAppServices } from "../api/context";
import { useSession } from "../auth/SessionProvider";
import { describeRange } from "../lib/dates";
import { IdentityControl } from "./IdentityControl";

export function Layout({ children }: { children: ReactNode }) {
  const { config } = useAppServices();
  const event = config.event;
  const { session } = useSession();
  // An attendee may see only their own page: a way straight to it.
  const ownPage = session?.role === "attendee" && session.personId ? `/persons/${encodeURIComponent(session.personId)}` : null;
  const main = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const previous = useRef(pathname);

  // A new page (not a new query on the same page): start at its top, with focus there too, so a
  // screen reader or keyboard user continues from the new content rather than a vanished link.
  useEffect(() => {
    if (previous.current === pathname) return;
    previous.current = pathname;
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <div className="site-header__inner">
          <NavLink to="/" className="brand" end>
            <svg className="brand__logo" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
              <circle cx="22" cy="26" r="11" fill="#a5b4fc" />
              <circle cx="42" cy="38" r="11" fill="#fdba74" />
              <path d="M22 26 42 38" stroke="#fff" strokeWidth="5" strokeLinecap="round" />
            </svg>
            <span className="brand__name">UdaConnect</span>
          </NavLink>
          {event && (
            <p className="site-header__event">
              <span className="site-header__event-name">{event.name}</span>
              <span className="site-header__event-dates">{describeRange(event.startDate, event.endDate)} (UTC)</span>
            </p>
          )}
          <nav aria-label="Main" className="site-nav">
            <NavLink to="/" end>
              People
            </NavLink>
            {ownPage && <NavLink to={ownPage}>My connections</NavLink>}
          </nav>
          <IdentityControl />
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="site-main">
        {children}
      </main>
      <footer className="site-footer">
        <p>UdaConnect · all times are UTC · map drawn offline from the venue's floor plan</p>
      </footer>
    </>
  );
}
