import { createContext, useContext, type ReactNode } from "react";
import type { RuntimeConfig } from "../config";
import type { ApiClients } from "./client";

export interface AppServices {
  config: RuntimeConfig;
  api: ApiClients;
}

const AppServicesContext = createContext<AppServices | null>(null);

export function AppServicesProvider({ value, children }: { value: AppServices; children: ReactNode }) {
  return <AppServicesContext.Provider value={value}>{children}</AppServicesContext.Provider>;
}

export function useAppServices(): AppServices {
  const services = useContext(AppServicesContext);
  if (!services) throw new Error("useAppServices outside AppServicesProvider");
  return services;
}
