/// <reference types="vitest/config" />
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Connect, type Plugin } from "vite";

/**
 * Serves the runtime configuration that a production server would serve as static files:
 * `/config.json` built from environment variables and, when VENUE_GEOJSON names a file,
 * `/venue.geojson`. Used by `npm run dev` and `npm run preview` only. Nothing here ends up in the
 * bundle: the app always fetches /config.json at startup, so one build runs anywhere.
 */
function runtimeConfig(): Plugin {
  const env = process.env;
  const venueFile = env.VENUE_GEOJSON ? resolve(env.VENUE_GEOJSON) : null;
  // The demo conference by default, so `npm run dev` against `make up` opens on days with data.
  // EVENT_NAME="" serves "event": null (the app then defaults to today).
  const eventName = env.EVENT_NAME ?? "UdaConnect demo conference";
  // IDENTITIES: a JSON array of {name, role, personId, token} to choose from in the header, such as
  // the running local stack's (its /config.json has them). Unset: none, sign in with a pasted token.
  let identities: unknown = [];
  if (env.IDENTITIES) {
    try {
      identities = JSON.parse(env.IDENTITIES);
    } catch (error) {
      throw new Error(`IDENTITIES is not JSON: ${String(error)}`);
    }
  }
  const config = {
    personApiUrl: env.PERSON_API_URL ?? "http://localhost:8001",
    locationApiUrl: env.LOCATION_API_URL ?? "http://localhost:8002",
    connectionApiUrl: env.CONNECTION_API_URL ?? "http://localhost:8003",
    venueUrl: venueFile ? "/venue.geojson" : null,
    event: eventName
      ? {
          name: eventName,
          startDate: env.EVENT_START_DATE ?? "2026-06-01",
          endDate: env.EVENT_END_DATE ?? "2026-06-02",
        }
      : null,
    identities,
  };

  const middleware: Connect.NextHandleFunction = (
    req: IncomingMessage,
    res: ServerResponse,
    next: Connect.NextFunction,
  ) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/config.json") {
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Cache-Control", "no-store");
      res.end(JSON.stringify(config, null, 2));
      return;
    }
    if (path === "/venue.geojson" && venueFile) {
      readFile(venueFile).then(
        (body) => {
          res.setHeader("Content-Type", "application/geo+json");
          res.end(body);
        },
        (error: unknown) => {
          res.statusCode = 500;
          res.end(`Cannot read VENUE_GEOJSON (${venueFile}): ${String(error)}`);
        },
      );
      return;
    }
    next();
  };

  return {
    name: "udaconnect-runtime-config",
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

export default defineConfig({
  plugins: [react(), runtimeConfig()],
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
  build: {
    target: "es2022",
    sourcemap: true,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
