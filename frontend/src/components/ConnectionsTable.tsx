import { Link } from "react-router";
import type { ConnectionFeature } from "../api/client";
import { formatUtc } from "../lib/dates";
import { fullName } from "../lib/people";

function formatCoordinate(value: number | undefined): string {
  return value === undefined ? "—" : value.toFixed(6);
}

/** The other persons' pings near the person's, in time order, as loaded so far. */
export function ConnectionsTable({ features, label }: { features: readonly ConnectionFeature[]; label: string }) {
  return (
    <div className="table-scroll table-scroll--tall" role="region" aria-label={label} tabIndex={0}>
      <table className="table table--compact">
        <caption className="visually-hidden">{label}</caption>
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Time</th>
            <th scope="col" className="num">
              Latitude
            </th>
            <th scope="col" className="num">
              Longitude
            </th>
          </tr>
        </thead>
        <tbody>
          {features.map((feature) => {
            const { person, creation_time } = feature.properties;
            const [lng, lat] = feature.geometry.coordinates;
            return (
              <tr key={feature.id}>
                <td>
                  <Link to={`/persons/${person.id}`}>{fullName(person)}</Link>
                </td>
                <td>
                  <time dateTime={creation_time}>{formatUtc(creation_time, { seconds: true })}</time>
                </td>
                <td className="num mono">{formatCoordinate(lat)}</td>
                <td className="num mono">{formatCoordinate(lng)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
