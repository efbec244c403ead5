import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { navigate, queryString } from "../router";
import { type Series, TimeChart } from "../ui/Chart";
import { formatNumber, humanize, isoDay } from "../ui/format";
import { useAsync } from "../ui/hooks";
import { Loaded, Page, Section } from "../ui/Page";
import { useNames } from "./names";

type Point = Schemas["StatsPoint"];
const COLORS = ["#1f4e8c", "#c2410c", "#15803d", "#7c3aed", "#be185d", "#0e7490"];
const PRESETS = [7, 30, 90] as const;

function daysAgo(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() - days);
  return isoDay(date);
}

/** The range asked for in the query, default the last 30 days (the API's days are UTC). */
function range(query: URLSearchParams): { from: string; to: string } {
  return { from: query.get("from") || daysAgo(29), to: query.get("to") || isoDay(new Date()) };
}

function Summary({ summary }: { summary: Schemas["StatsSummary"] }) {
  const items: [string, number | string][] = [
    ["Active licenses", summary.licenses.byStatus.active],
    ["Suspended licenses", summary.licenses.byStatus.suspended],
    ["Revoked licenses", summary.licenses.byStatus.revoked],
    ["Active machines", summary.activeMachines],
    ["Seats used", `${formatNumber(summary.seats.used)} of ${formatNumber(summary.seats.total)}`],
  ];
  return (
    <dl class="stats" aria-label="Now">
      {items.map(([label, value]) => (
        <div class="stat">
          <dt>{label}</dt>
          <dd>{typeof value === "number" ? formatNumber(value) : value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Charts({ points }: { points: Point[] }) {
  const times = points.map((point) => Math.floor(new Date(`${point.date}T12:00:00Z`).getTime() / 1000));
  const line = (label: string, values: number[], color: string): Series => ({ label, values, color });
  const total = (pick: (point: Point) => number) => points.reduce((sum, point) => sum + pick(point), 0);
  const meters = [...new Set(points.flatMap((point) => Object.keys(point.usage)))].sort();
  const totals: [string, number][] = [
    ["Activations", total((p) => p.activations)],
    ["Deactivations", total((p) => p.deactivations)],
    ["Seats reclaimed", total((p) => p.reclaimed)],
    ["Licenses issued", total((p) => p.issued)],
    ["Revocations", total((p) => p.revoked)],
    ["Suspensions", total((p) => p.suspended)],
  ];
  return (
    <>
      <dl class="stats" aria-label="In this range">
        {totals.map(([label, value]) => (
          <div class="stat">
            <dt>{label}</dt>
            <dd>{formatNumber(value)}</dd>
          </div>
        ))}
      </dl>
      <div class="grid">
        <Section title="Machines">
          <TimeChart title="Active machines at the end of each day" times={times} series={[line("Active machines", points.map((p) => p.activeMachines), COLORS[0]!)]} />
        </Section>
        <Section title="Activations">
          <TimeChart
            title="Activations and deactivations per day"
            times={times}
            series={[line("Activations", points.map((p) => p.activations), COLORS[2]!), line("Deactivations", points.map((p) => p.deactivations), COLORS[1]!)]}
          />
        </Section>
        <Section title="Revocations">
          <TimeChart title="Revocations per day" kind="bars" times={times} series={[line("Revocations", points.map((p) => p.revoked), COLORS[1]!)]} />
        </Section>
        <Section title="Usage">
          {meters.length ? (
            <TimeChart
              title="Usage per meter per day"
              times={times}
              series={meters.map((meter, index) => line(humanize(meter), points.map((p) => p.usage[meter] ?? 0), COLORS[index % COLORS.length]!))}
            />
          ) : (
            <p class="notice">No usage reported in this range.</p>
          )}
        </Section>
      </div>
    </>
  );
}

export default function Overview({ location, session }: ScreenProps) {
  const names = useNames();
  const query = location.query;
  const { from, to } = range(query);
  const productId = query.get("productId") || undefined;
  const tenantId = session.tenant ?? (query.get("tenantId") || undefined);
  const key = `${from}|${to}|${productId}|${tenantId}`;
  const summary = useAsync((signal) => unwrap(api().GET("/stats/summary", { params: { query: { productId, tenantId } }, signal })), [productId, tenantId]);
  const series = useAsync((signal) => unwrap(api().GET("/stats", { params: { query: { from, to, productId, tenantId, interval: "day" } }, signal })), [key]);
  const go = (values: Record<string, string | undefined>) => navigate(`overview${queryString({ from, to, productId, tenantId: session.tenant ? undefined : tenantId, ...values })}`);
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? "").trim() || undefined;
    go({ from: value("from"), to: value("to"), productId: value("productId"), tenantId: value("tenantId") });
  };
  return (
    <Page title="Overview">
      <form class="card filters" aria-label="Range and scope" onSubmit={submit} key={key}>
        <div class="field">
          <label for="o-from">From</label>
          <input id="o-from" name="from" type="date" defaultValue={from} max={to} required />
        </div>
        <div class="field">
          <label for="o-to">To</label>
          <input id="o-to" name="to" type="date" defaultValue={to} min={from} required />
        </div>
        <div class="field">
          <label for="o-product">Product</label>
          <select id="o-product" name="productId">
            <option value="">All products</option>
            {names.data?.products.map((product) => (
              <option value={product.productId} selected={product.productId === productId}>
                {product.name}
              </option>
            ))}
          </select>
        </div>
        {session.tenant ? null : (
          <div class="field">
            <label for="o-tenant">Tenant id</label>
            <input id="o-tenant" name="tenantId" defaultValue={tenantId ?? ""} placeholder="All tenants" />
          </div>
        )}
        <div class="actions">
          <button type="submit">Show</button>
          {PRESETS.map((days) => (
            <button type="button" class="secondary" onClick={() => go({ from: daysAgo(days - 1), to: isoDay(new Date()) })}>
              Last {days} days
            </button>
          ))}
        </div>
      </form>
      <Loaded state={summary} label="the summary">
        {(found) => <Summary summary={found} />}
      </Loaded>
      <Loaded state={series} label="statistics">
        {(found) => <Charts points={found.points} />}
      </Loaded>
    </Page>
  );
}
