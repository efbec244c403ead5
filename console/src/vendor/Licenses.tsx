import { useEffect, useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { navigate, queryString } from "../router";
import { formatDate, humanize } from "../ui/format";
import { usePaging } from "../ui/hooks";
import { useAsync } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, Page } from "../ui/Page";
import { DataTable, Pager, StatusBadge } from "../ui/Table";
import { listTiers, type Names, type Tier, useNames } from "./names";

type License = Schemas["License"];
type Search = NonNullable<NonNullable<import("../api/schema.gen").operations["search_licenses"]["parameters"]["query"]>>;

const STANDINGS = ["active", "suspended", "revoked", "superseded", "expired"] as const;
const FILTERS = ["email", "customerId", "productId", "tierId", "status", "tenantId", "expiresAfter", "expiresBefore"] as const;
type Filter = (typeof FILTERS)[number];

/** A day of a date input as the moment the API wants: the start of that day, local time. */
function dayStart(day: string): string | undefined {
  return day ? new Date(`${day}T00:00:00`).toISOString() : undefined;
}

function searchQuery(query: URLSearchParams, cursor: string | null, limit: number): Search {
  const value = (name: Filter) => query.get(name) || undefined;
  return {
    limit,
    cursor: cursor ?? undefined,
    email: value("email"),
    customerId: value("customerId"),
    productId: value("productId"),
    tierId: value("tierId"),
    status: value("status") as Search["status"],
    tenantId: value("tenantId"),
    expiresAfter: dayStart(value("expiresAfter") ?? ""),
    expiresBefore: dayStart(value("expiresBefore") ?? ""),
  };
}

export function licenseColumns(names: Names | undefined, options: { customer?: boolean } = {}) {
  return [
    {
      header: "License",
      cell: (license: License) => (
        <Link to={`licenses/${encodeURIComponent(license.licenseId)}`} class="mono">
          {license.licenseId}
        </Link>
      ),
    },
    ...(options.customer === false
      ? []
      : [
          {
            header: "Identity",
            cell: (license: License) => (
              <Link to={`identities/${encodeURIComponent(license.customerId)}`} class="mono">
                {license.customerId}
              </Link>
            ),
          },
        ]),
    { header: "Product", cell: (license: License) => license.productCode },
    { header: "Tier", cell: (license: License) => names?.tier(license.tierId) ?? license.tierId },
    { header: "Standing", cell: (license: License) => <StatusBadge status={license.standing} /> },
    { header: "Seats used", className: "number", cell: (license: License) => license.activeSeats },
    { header: "Expires", cell: (license: License) => (license.perpetual ? "Never" : formatDate(license.expiresAt)) },
  ];
}

function Filters({ query, names, tenantFixed }: { query: URLSearchParams; names: Names | undefined; tenantFixed: string | null }) {
  const [productId, setProductId] = useState(query.get("productId") ?? "");
  const [tiers, setTiers] = useState<Tier[]>([]);
  useEffect(() => {
    setProductId(query.get("productId") ?? "");
  }, [query]);
  useEffect(() => {
    let live = true;
    if (productId) void listTiers(productId).then((list) => live && setTiers(list), () => live && setTiers([]));
    else setTiers([]);
    return () => {
      live = false;
    };
  }, [productId]);
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const values: Record<string, string> = {};
    for (const name of FILTERS) values[name] = String(form.get(name) ?? "").trim();
    navigate(`licenses${queryString(values)}`);
  };
  const field = (name: Filter) => query.get(name) ?? "";
  return (
    <form class="card filters" role="search" aria-label="Licenses" onSubmit={submit}>
      <div class="field">
        <label for="f-email">Customer email</label>
        <input id="f-email" name="email" type="email" defaultValue={field("email")} autoComplete="off" />
      </div>
      <div class="field">
        <label for="f-customer">Identity id</label>
        <input id="f-customer" name="customerId" defaultValue={field("customerId")} autoComplete="off" />
      </div>
      <div class="field">
        <label for="f-product">Product</label>
        <select id="f-product" name="productId" value={productId} onChange={(event) => setProductId((event.currentTarget as HTMLSelectElement).value)}>
          <option value="">Any product</option>
          {names?.products.map((product) => (
            <option value={product.productId}>{product.name}</option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-tier">Tier</label>
        <select id="f-tier" name="tierId" defaultValue={field("tierId")} disabled={!productId}>
          <option value="">Any tier</option>
          {tiers.map((tier) => (
            <option value={tier.tierId} selected={tier.tierId === field("tierId")}>
              {tier.name}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-status">Standing</label>
        <select id="f-status" name="status">
          <option value="">Any standing</option>
          {STANDINGS.map((standing) => (
            <option value={standing} selected={standing === field("status")}>
              {humanize(standing)}
            </option>
          ))}
        </select>
      </div>
      {tenantFixed ? (
        <input type="hidden" name="tenantId" value={tenantFixed} />
      ) : (
        <div class="field">
          <label for="f-tenant">Tenant id</label>
          <input id="f-tenant" name="tenantId" defaultValue={field("tenantId")} autoComplete="off" />
        </div>
      )}
      <div class="field">
        <label for="f-after">Expires on or after</label>
        <input id="f-after" name="expiresAfter" type="date" defaultValue={field("expiresAfter")} />
      </div>
      <div class="field">
        <label for="f-before">Expires before</label>
        <input id="f-before" name="expiresBefore" type="date" defaultValue={field("expiresBefore")} />
      </div>
      <div class="actions">
        <button type="submit">Search</button>
        <button type="button" class="secondary" onClick={() => navigate("licenses")}>
          Clear
        </button>
      </div>
    </form>
  );
}

const PAGE_SIZE = 50;

export default function Licenses({ location, session }: ScreenProps) {
  const names = useNames();
  const key = location.query.toString();
  const paging = usePaging([key]);
  const query = searchQuery(location.query, paging.cursor, PAGE_SIZE);
  if (session.tenant) query.tenantId = session.tenant;
  // The API answers searches that start from an identity, a product or a tenant.
  const served = Boolean(query.email || query.customerId || query.productId || query.tenantId);
  const results = useAsync(
    (signal) => (served ? unwrap(api().GET("/license-keys", { params: { query }, signal })) : Promise.resolve(null)),
    [key, paging.cursor],
  );
  return (
    <Page
      title="Licenses"
      actions={
        <Link to="licenses/new" class="button">
          Issue a license
        </Link>
      }
    >
      <Filters query={location.query} names={names.data} tenantFixed={session.tenant} />
      <Loaded state={results} label="licenses">
        {(page) =>
          page === null ? (
            <p class="notice">Find licenses by the customer's email or identity, by product (and tier, standing, expiry), or by tenant.</p>
          ) : (
          <>
            <DataTable
              caption={`Licenses, page ${paging.page}`}
              columns={licenseColumns(names.data)}
              rows={page.items}
              rowKey={(license) => license.licenseId}
              empty="No license matches these filters."
              busy={results.loading}
            />
            <Pager label="Licenses" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
          </>
          )
        }
      </Loaded>
    </Page>
  );
}
