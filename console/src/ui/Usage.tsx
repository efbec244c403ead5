import type { Schemas } from "../api/client";
import { TimeChart } from "./Chart";
import { formatDate, formatNumber, humanize } from "./format";
import { DataTable } from "./Table";

type Counter = Schemas["UsageCounter"];

const COLORS = ["#1f4e8c", "#c2410c", "#15803d", "#7c3aed", "#be185d"];

/** Usage per meter over past periods (one point per period, at its end) and, for the
 * current period, what is used of each quota. */
export function UsageChart({ counters }: { counters: Counter[] }) {
  if (counters.length === 0) return <p class="notice">No usage reported yet.</p>;
  const meters = [...new Set(counters.map((counter) => `${counter.meter}|${counter.licenseId}`))];
  const ends = [...new Set(counters.map((counter) => counter.periodEndsAt))].sort();
  const times = ends.map((end) => Math.floor(new Date(end).getTime() / 1000));
  const series = meters.map((key, index) => {
    const [meter, licenseId] = key.split("|") as [string, string];
    const values = ends.map((end) => counters.find((c) => c.meter === meter && c.licenseId === licenseId && c.periodEndsAt === end)?.used ?? 0);
    const label = meters.length > new Set(counters.map((c) => c.meter)).size ? `${meter} (${licenseId})` : meter;
    return { label, values, color: COLORS[index % COLORS.length]! };
  });
  const latest = ends.at(-1);
  const current = counters.filter((counter) => counter.periodEndsAt === latest);
  return (
    <>
      {ends.length > 1 ? <TimeChart title="Usage per period" times={times} series={series} kind="bars" /> : null}
      <DataTable
        caption="This period"
        columns={[
          { header: "Meter", cell: (c: Counter) => humanize(c.meter) },
          { header: "Used", className: "number", cell: (c: Counter) => formatNumber(c.used) },
          { header: "Quota", className: "number", cell: (c: Counter) => formatNumber(c.limit) },
          { header: "Left", className: "number", cell: (c: Counter) => formatNumber(Math.max(0, c.limit - c.used)) },
          { header: "Period", cell: (c: Counter) => `${c.period}, until ${formatDate(c.periodEndsAt)}` },
          { header: "License", cell: (c: Counter) => <span class="mono">{c.licenseId}</span> },
        ]}
        rows={current}
        rowKey={(c) => `${c.licenseId}-${c.meter}`}
        empty="Nothing counted this period."
      />
    </>
  );
}
