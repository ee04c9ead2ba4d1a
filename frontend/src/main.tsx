import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createQueryClient } from "./api/queries";
import { App } from "./App";
import { ConfigErrorPage } from "./components/ConfigErrorPage";
import { loadConfig } from "./config";
import "./styles.css";

const root = createRoot(document.getElementById("root") as HTMLElement);

loadConfig().then(
  (config) => {
    root.render(
      <StrictMode>
        <App config={config} queryClient={createQueryClient()} />
      </StrictMode>,
    );
  },
  (error: unknown) => {
    root.render(
      <StrictMode>
        <ConfigErrorPage error={error} />
      </StrictMode>,
    );
  },
);
