/**
 * "Who are you", in the header: a button saying who the app acts as, opening a panel to pick one of
 * the configured identities, use a pasted bearer token, or sign out. A disclosure of plain buttons
 * rather than a select that acts on change: moving through a select's options with the arrow keys
 * would sign in as each one on the way.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useSession } from "../auth/SessionProvider";
import { checkPastedToken, describeSession, sessionFromIdentity } from "../auth/session";

export function IdentityControl() {
  const { identities, session, signInAs, signInWithToken, signOut, chooserOpen, setChooserOpen } = useSession();
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const pasteButton = useRef<HTMLButtonElement>(null);
  const [pasting, setPasting] = useState(false);
  const cancelledPaste = useRef(false);

  // Opened (here or by a refused sign-in elsewhere on the page): focus goes to the current choice, or
  // the first. Closed, however: it opens next time on the choices, not on a half-typed token.
  useEffect(() => {
    if (!chooserOpen) {
      setPasting(false);
      return;
    }
    const target = panel.current?.querySelector<HTMLElement>('[aria-current="true"], button, input');
    target?.focus();
  }, [chooserOpen]);

  // The token form cancelled: back to the button that opened it (the form, and the focus in it, are gone).
  useEffect(() => {
    if (pasting || !cancelledPaste.current) return;
    cancelledPaste.current = false;
    pasteButton.current?.focus();
  }, [pasting]);

  // A click outside closes it, leaving focus where the click put it.
  useEffect(() => {
    if (!chooserOpen) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setChooserOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [chooserOpen, setChooserOpen]);

  const close = () => {
    setChooserOpen(false);
    toggle.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && chooserOpen) {
      event.preventDefault();
      close();
    }
  };

  // Chosen: the provider closes the panel; focus returns to the button, which now says who.
  const done = (act: () => void) => {
    act();
    toggle.current?.focus();
  };

  const showTokenForm = pasting || identities.length === 0;

  return (
    <div
      className="identity"
      ref={root}
      onKeyDown={onKeyDown}
      onBlur={(event) => {
        // Tabbing out of the panel closes it.
        const next = event.relatedTarget;
        if (chooserOpen && next instanceof Node && !root.current?.contains(next)) setChooserOpen(false);
      }}
    >
      <button
        ref={toggle}
        type="button"
        className="identity__toggle"
        aria-expanded={chooserOpen}
        aria-controls={`${id}-panel`}
        data-testid="identity-toggle"
        onClick={() => (chooserOpen ? close() : setChooserOpen(true))}
      >
        <span className="identity__caption">{session ? "Signed in as" : "Not signed in"}</span>{" "}
        {/* The space above is not laid out (a flex container) but keeps the two apart in the button's name. */}
        <span className="identity__who">{session ? describeSession(session) : "Choose who you are"}</span>
      </button>
      {chooserOpen && (
        <div ref={panel} id={`${id}-panel`} className="identity__panel" role="group" aria-labelledby={`${id}-title`}>
          <p id={`${id}-title`} className="identity__title">
            Who are you?
          </p>
          {identities.length > 0 && (
            <ul className="identity__choices">
              {identities.map((identity) => {
                const current = session?.source === "configured" && session.name === identity.name;
                return (
                  <li key={identity.name}>
                    <button
                      type="button"
                      className="identity__choice"
                      aria-current={current ? "true" : undefined}
                      onClick={() => done(() => signInAs(identity))}
                    >
                      {describeSession(sessionFromIdentity(identity)) + (current ? " (current)" : "")}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          {showTokenForm ? (
            <TokenForm
              onUse={(token) => done(() => signInWithToken(token))}
              onCancel={
                identities.length > 0
                  ? () => {
                      cancelledPaste.current = true;
                      setPasting(false);
                    }
                  : undefined
              }
            />
          ) : (
            <button ref={pasteButton} type="button" className="button button--small identity__paste" onClick={() => setPasting(true)}>
              Use a token…
            </button>
          )}
          {session && (
            <button type="button" className="button button--small button--ghost identity__sign-out" onClick={() => done(signOut)}>
              Sign out
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function TokenForm({ onUse, onCancel }: { onUse: (token: string) => void; onCancel: (() => void) | undefined }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  // Shown because someone asked for it: they paste next.
  useEffect(() => input.current?.focus(), []);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const checked = checkPastedToken(value);
    if ("problem" in checked) {
      setProblem(checked.problem);
      input.current?.focus();
      return;
    }
    onUse(checked.token);
  };

  return (
    <form className="identity__token" noValidate onSubmit={onSubmit}>
      <label htmlFor={`${id}-token`}>Bearer token</label>
      <p className="identity__hint" id={`${id}-hint`}>
        From your organisation's sign-in. It is kept in this tab only, until you close it.
      </p>
      {/* A password field: a token is a secret, not to be shown on a shared screen. */}
      <input
        ref={input}
        id={`${id}-token`}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={value}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-hint ${id}-problem` : `${id}-hint`}
        onChange={(event) => {
          setValue(event.target.value);
          setProblem(null);
        }}
      />
      {problem && (
        <p className="field__error" id={`${id}-problem`}>
          {problem}
        </p>
      )}
      <div className="identity__actions">
        <button type="submit" className="button button--small button--primary">
          Use this token
        </button>
        {onCancel && (
          <button type="button" className="button button--small button--ghost" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
