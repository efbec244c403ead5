import { useEffect, useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { navigate } from "../router";
import { ActionDialog, Field } from "../ui/Dialog";
import { formatDate, formatNumber, humanize } from "../ui/format";
import { useAsync, usePaging } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, Page, Section } from "../ui/Page";
import { DataTable, Pager } from "../ui/Table";
import { toast } from "../ui/Toast";
import { listTiers, type Tier, useNames } from "./names";
import { identityColumns } from "./Identities";
import type { Screen } from "./screens";

function CreateTenant({ onClose }: { onClose: () => void }) {
  const names = useNames();
  const [productId, setProductId] = useState("");
  const [tiers, setTiers] = useState<Tier[]>([]);
  useEffect(() => {
    let live = true;
    if (productId) void listTiers(productId).then((list) => live && setTiers(list));
    else setTiers([]);
    return () => {
      live = false;
    };
  }, [productId]);
  return (
    <ActionDialog
      title="Create a tenant"
      description={<p>A provisioning policy issues a license of the tier to every identity created in the tenant.</p>}
      confirmLabel="Create tenant"
      run={(form) => {
        const value = (name: string) => String(form.get(name) ?? "").trim();
        const days = value("days");
        return unwrap(
          api().POST("/tenants", {
            body: {
              name: value("name"),
              licenseId: value("licenseId") || null,
              provisioning: productId && value("tierId") ? { productId, tierId: value("tierId"), days: days ? Number(days) : null } : null,
            },
          }),
        );
      }}
      onDone={(tenant) => {
        toast(`Tenant ${tenant.name} created.`);
        navigate(`tenants/${encodeURIComponent(tenant.tenantId)}`);
      }}
      onClose={onClose}
    >
      <Field name="name" label="Name" required maxLength={200} />
      <div class="field">
        <label for="t-product">Provisioning: product</label>
        <select id="t-product" value={productId} onChange={(event) => setProductId((event.currentTarget as HTMLSelectElement).value)}>
          <option value="">No provisioning</option>
          {names.data?.products.map((product) => (
            <option value={product.productId}>{product.name}</option>
          ))}
        </select>
      </div>
      {productId ? (
        <>
          <Field name="tierId" label="Provisioning: tier" required>
            {tiers.map((tier) => (
              <option value={tier.tierId}>{tier.name}</option>
            ))}
          </Field>
          <Field name="days" label="Provisioned licenses last (days)" type="number" min={1} max={36500} hint="Empty: perpetual." />
        </>
      ) : null}
      <Field name="licenseId" label="License serving the tenant (optional)" hint="Its tier's maxTenants bounds how many tenants one license serves." />
    </ActionDialog>
  );
}

export default function Tenants({ session }: ScreenProps) {
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    if (session.tenant) navigate(`tenants/${encodeURIComponent(session.tenant)}`, { replace: true });
  }, [session.tenant]);
  const open = (event: Event) => {
    event.preventDefault();
    const id = String(new FormData(event.currentTarget as HTMLFormElement).get("tenantId") ?? "").trim();
    if (id) navigate(`tenants/${encodeURIComponent(id)}`);
  };
  return (
    <Page
      title="Tenants"
      actions={
        <button type="button" onClick={() => setCreating(true)}>
          Create a tenant
        </button>
      }
    >
      <form class="card filters" role="search" aria-label="Tenants" onSubmit={open}>
        <div class="field">
          <label for="t-id">Tenant id</label>
          <input id="t-id" name="tenantId" required autoComplete="off" />
        </div>
        <div class="actions">
          <button type="submit">Open</button>
        </div>
      </form>
      <p class="notice">
        Every identity belongs to a tenant; identities created without one are in <Link to="tenants/default">the default tenant</Link>. An identity's or a
        license's page links its tenant.
      </p>
      {creating ? <CreateTenant onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}

type Summary = Schemas["TenantSummary"];

function Counts({ summary }: { summary: Summary }) {
  const items: [string, number][] = [
    ["Active identities", summary.identities.active],
    ["Deactivated identities", summary.identities.deactivated],
    ["Active licenses", summary.licenses.active],
    ["Suspended licenses", summary.licenses.suspended],
    ["Revoked licenses", summary.licenses.revoked],
    ["Expired licenses", summary.licenses.expired],
  ];
  return (
    <dl class="stats">
      {items.map(([label, value]) => (
        <div class="stat">
          <dt>{label}</dt>
          <dd>{formatNumber(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export const TenantDetail: Screen = ({ params }) => {
  const tenantId = params.tenantId!;
  const names = useNames();
  const paging = usePaging([tenantId]);
  const tenant = useAsync((signal) => unwrap(api().GET("/tenants/{tenantId}", { params: { path: { tenantId } }, signal })), [tenantId]);
  const summary = useAsync((signal) => unwrap(api().GET("/tenants/{tenantId}/summary", { params: { path: { tenantId } }, signal })), [tenantId]);
  const customers = useAsync(
    (signal) => unwrap(api().GET("/tenants/{tenantId}/customers", { params: { path: { tenantId }, query: { limit: 25, cursor: paging.cursor ?? undefined } }, signal })),
    [tenantId, paging.cursor],
  );
  return (
    <Page
      title={tenant.data ? `Tenant ${tenant.data.name}` : `Tenant ${tenantId}`}
      actions={
        <Link to={`licenses?tenantId=${encodeURIComponent(tenantId)}`} class="button">
          Its licenses
        </Link>
      }
    >
      <Loaded state={tenant} label="the tenant">
        {(found) => (
          <Section title="Tenant">
            <dl class="facts">
              <dt>Tenant id</dt>
              <dd class="mono">{found.tenantId}</dd>
              <dt>Created</dt>
              <dd>{formatDate(found.createdAt)}</dd>
              <dt>Provisioning</dt>
              <dd>
                {found.provisioning
                  ? `${names.data?.tier(found.provisioning.tierId) ?? found.provisioning.tierId} of ${names.data?.product(found.provisioning.productId) ?? found.provisioning.productId}, ${found.provisioning.days ? `${found.provisioning.days} days` : "perpetual"}`
                  : "none: licenses are issued by hand"}
              </dd>
              <dt>Served by license</dt>
              <dd>{found.licenseId ? <Link to={`licenses/${encodeURIComponent(found.licenseId)}`} class="mono">{found.licenseId}</Link> : "—"}</dd>
            </dl>
          </Section>
        )}
      </Loaded>
      <Section title="Summary">
        <Loaded state={summary} label="the summary">
          {(found) => (
            <>
              <Counts summary={found} />
              <DataTable
                caption="Usage this period"
                columns={[
                  { header: "Meter", cell: (usage: Schemas["MeterUsage"]) => humanize(usage.meter) },
                  { header: "Used", className: "number", cell: (usage: Schemas["MeterUsage"]) => formatNumber(usage.used) },
                  { header: "Counters", className: "number", cell: (usage: Schemas["MeterUsage"]) => formatNumber(usage.counters) },
                  { header: "Period", cell: (usage: Schemas["MeterUsage"]) => usage.period },
                ]}
                rows={found.usage}
                rowKey={(usage) => `${usage.meter}-${usage.period}`}
                empty="No usage this period."
              />
            </>
          )}
        </Loaded>
      </Section>
      <Section title="Identities">
        <Loaded state={customers} label="identities">
          {(page) => (
            <>
              <DataTable caption="The tenant's identities" columns={identityColumns({ tenant: false })} rows={page.items} rowKey={(c) => c.customerId} empty="No identity yet." />
              <Pager label="Identities" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
            </>
          )}
        </Loaded>
      </Section>
    </Page>
  );
};
