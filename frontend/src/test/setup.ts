import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
  // The chosen identity is kept in sessionStorage: each test starts with none chosen.
  sessionStorage.clear();
});
