import { CONFIG_URL } from "../config";

/** Shown when /config.json cannot be loaded or is invalid: the app cannot know where the APIs are. */
export function ConfigErrorPage({ error }: { error: unknown }) {
  const detail = error instanceof Error ? error.message : String(error);
  return (
    <main id="main" className="site-main config-error">
      <div className="card config-error__card">
        <h1>UdaConnect cannot start</h1>
        <div className="error-box" role="alert" data-testid="error-message">
          <div className="error-box__body">
            <p className="error-box__title">The app's configuration could not be loaded</p>
            <p className="error-box__detail">{detail}</p>
          </div>
        </div>
        <p>
          The web server must serve <code>{CONFIG_URL}</code> with the addresses of the person, location and connection
          services. If you run the server, check its configuration; otherwise try again in a moment.
        </p>
        <button type="button" className="button button--primary" onClick={() => window.location.reload()}>
          Try again
        </button>
      </div>
    </main>
  );
}
