import { describe, expect, it } from "vitest";
import connectionApi from "../api/openapi/connection.json";
import { DEFAULT_DISTANCE_M, MAX_DISTANCE_M, MAX_WINDOW_MIN, MIN_DISTANCE_M, MIN_WINDOW_MIN } from "./dates";

type Parameter = { name: string; schema: { minimum?: number; maximum?: number; default?: number; anyOf?: Array<{ minimum?: number; maximum?: number }> } };

function parameter(name: string): Parameter["schema"] {
  const parameters = connectionApi.paths["/api/persons/{person_id}/connection"].get.parameters as Parameter[];
  const found = parameters.find((p) => p.name === name);
  if (!found) throw new Error(`the connection API has no parameter ${name}`);
  return found.schema;
}

describe("the limits the form checks", () => {
  it("are the connection API's own, as its OpenAPI document states them", () => {
    const distance = parameter("distance");
    expect([distance.minimum, distance.maximum, distance.default]).toEqual([MIN_DISTANCE_M, MAX_DISTANCE_M, DEFAULT_DISTANCE_M]);
    const window = parameter("window").anyOf?.find((s) => s.minimum !== undefined);
    expect([window?.minimum, window?.maximum]).toEqual([MIN_WINDOW_MIN, MAX_WINDOW_MIN]);
  });
});
