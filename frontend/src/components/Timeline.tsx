import { useId, useMemo, useState } from "react";
import type { ConnectionFeature, Contact } from "../api/client";
import { formatUtc, formatUtcClock, formatUtcDayShort, rangeBoundsMs } from "../lib/dates";
import { dataExtent, timelineLayout, timelineRows } from "../lib/timeline";

const DAY = 86_400_000;
const MAX_ROWS = 10;
const WIDTH = 800;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

interface Props {
  contacts: readonly Contact[];
  pings: readonly ConnectionFeature[];
  /** Only the first pages of pings were loaded. */
  pingsTruncated: boolean;
  start: string;
  end: string;
  personName: string;
}

/** When they met whom: a bar from first to last encounter per contact, a tick per loaded ping. */
export function Timeline({ contacts, pings, pingsTruncated, start, end, personName }: Props) {
  const id = useId();
  const [zoomed, setZoomed] = useState(false);
  const rows = useMemo(() => timelineRows(contacts, pings, MAX_ROWS), [contacts, pings]);
  const [rangeStart, rangeEnd] = rangeBoundsMs(start, end);
  const extent = dataExtent(rows, [rangeStart, rangeEnd]);
  const [startMs, endMs] = zoomed && extent ? extent : [rangeStart, rangeEnd];
  const layout = timelineLayout(startMs, endMs, rows.length, { width: WIDTH });
  const { x, plot } = layout;
  const dailyTicks = layout.tickStep >= DAY;

  return (
    <>
      <div className="timeline-toolbar">
        <p className="timeline-toolbar__text">
          {zoomed
            ? `From ${formatUtc(startMs)} to ${formatUtc(endMs)}`
            : `The whole range: ${start}${start === end ? "" : ` to ${end}`} (UTC)`}
          {pingsTruncated ? " · ticks for the first pings only" : ""}
        </p>
        {extent && (
          <button type="button" className="button button--small" aria-pressed={zoomed} onClick={() => setZoomed((z) => !z)}>
            {zoomed ? "Show the whole range" : "Zoom to the encounters"}
          </button>
        )}
      </div>
      <div className="chart-scroll" role="region" aria-label={`Timeline chart of ${personName}'s encounters`} tabIndex={0}>
        <svg
          className="timeline"
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-labelledby={`${id}-title ${id}-desc`}
        >
          <title id={`${id}-title`}>
            {`When ${personName} met ${rows.length === 1 ? "their most frequent contact" : `their ${rows.length} most frequent contacts`}`}
          </title>
          <desc id={`${id}-desc`}>
            {`One row per person, most encounters first. A bar runs from the first to the last encounter, from ${formatUtc(startMs)} to ${formatUtc(endMs)}; ticks mark the connection pings loaded. The contacts table and the text version below give the same times.`}
          </desc>
          {rows.map((row, i) => (
            <rect
              key={`bg-${row.personId}`}
              x={0}
              y={plot.top + i * layout.rowHeight}
              width={layout.width}
              height={layout.rowHeight}
              className={i % 2 ? "timeline__band timeline__band--odd" : "timeline__band"}
            />
          ))}
          {layout.ticks.map((t) => {
            const midnight = t % DAY === 0;
            return (
              <g key={t}>
                <line
                  x1={x(t)}
                  x2={x(t)}
                  y1={plot.top}
                  y2={plot.bottom + 4}
                  className={midnight ? "timeline__grid timeline__grid--day" : "timeline__grid"}
                />
                <text x={x(t)} y={plot.bottom + 18} textAnchor="middle" className="timeline__axis-label">
                  {dailyTicks || midnight ? formatUtcDayShort(t) : formatUtcClock(t)}
                </text>
                {!dailyTicks && midnight && (
                  <text x={x(t)} y={plot.bottom + 32} textAnchor="middle" className="timeline__axis-sub">
                    00:00
                  </text>
                )}
              </g>
            );
          })}
          {rows.map((row, i) => {
            const cy = layout.rowY(i);
            const x1 = x(row.firstMs);
            const x2 = Math.max(x(row.lastMs), x1 + 3);
            return (
              <g key={row.personId}>
                <text x={plot.left - 10} y={cy + 4} textAnchor="end" className="timeline__label">
                  {truncate(row.name, 22)}
                </text>
                <rect x={x1} y={cy - 5} width={x2 - x1} height={10} rx={5} className="timeline__bar" />
                {row.pingMs.map((t, j) => (
                  <line key={j} x1={x(t)} x2={x(t)} y1={cy - 8} y2={cy + 8} className="timeline__tick" />
                ))}
              </g>
            );
          })}
          <text x={plot.right} y={layout.height - 2} textAnchor="end" className="timeline__axis-sub">
            UTC
          </text>
        </svg>
      </div>
      <details className="timeline-text">
        <summary>Timeline as text</summary>
        <ol>
          {rows.map((row) => (
            <li key={row.personId}>
              {row.name}: {row.encounters.toLocaleString("en")} encounters, from {formatUtc(row.firstMs)} to {formatUtc(row.lastMs)}
              {row.pingMs.length ? ` (${row.pingMs.length.toLocaleString("en")} pings loaded)` : ""}
            </li>
          ))}
        </ol>
      </details>
    </>
  );
}
