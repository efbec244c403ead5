import { useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { navigate, queryString } from "../router";
import { ActionDialog, Field } from "../ui/Dialog";
import { formatDate, humanize } from "../ui/format";
import { useAsync, usePaging } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, Page, Section } from "../ui/Page";
import { DataTable, Pager, StatusBadge } from "../ui/Table";
import { toast } from "../ui/Toast";
import type { Screen } from "./screens";
import { licenseColumns } from "./Licenses";
import { useNames } from "./names";
import { UsageChart } from "../ui/Usage";

type Customer = Schemas["Customer"];

export function identityColumns(options: { tenant?: boolean } = {}) {
  return [
    {
      header: "Email",
      cell: (customer: Customer) => <Link to={`identities/${encodeURIComponent(customer.customerId)}`}>{customer.email}</Link>,
    },
    { header: "Name", cell: (customer: Customer) => customer.name },
    { header: "Kind", cell: (customer: Customer) => humanize(customer.kind) },
    ...(options.tenant === false ? [] : [{ header: "Tenant", cell: (customer: Customer) => <span class="mono">{customer.tenantId}</span> }]),
    { header: "Status", cell: (customer: Customer) => <StatusBadge status={customer.status} /> },
    { header: "Created", cell: (customer: Customer) => formatDate(customer.createdAt) },
  ];
}

function CreateIdentity({ tenant, onClose }: { tenant: string | null; onClose: () => void }) {
  return (
    <ActionDialog
      title="Create an identity"
      description={<p>A person or a service account. A tenant with a provisioning policy issues its license at once.</p>}
      confirmLabel="Create identity"
      run={(form) => {
        const value = (name: string) => String(form.get(name) ?? "").trim();
        return unwrap(
          api().POST("/customers", {
            body: {
              email: value("email"),
              name: value("name"),
              kind: value("kind") === "service" ? "service" : "human",
              tenantId: tenant ?? (value("tenantId") || null),
              subject: null,
              metadata: {},
            },
          }),
        );
      }}
      onDone={(customer) => {
        toast(`Identity ${customer.email} created${customer.provisionedLicense ? " with its license" : ""}.`);
        navigate(`identities/${encodeURIComponent(customer.customerId)}`);
      }}
      onClose={onClose}
    >
      <Field name="email" label="Email" type="email" required />
      <Field name="name" label="Name" required maxLength={200} />
      <Field name="kind" label="Kind">
        <option value="human">Person</option>
        <option value="service">Service account</option>
      </Field>
      {tenant ? null : <Field name="tenantId" label="Tenant id (optional)" hint="Default: the default tenant." />}
    </ActionDialog>
  );
}

export default function Identities({ location, session }: ScreenProps) {
  const key = location.query.toString();
  const paging = usePaging([key]);
  const [creating, setCreating] = useState(false);
  const query = location.query;
  const searching = Boolean(query.get("email") || query.get("q") || query.get("tenantId") || session.tenant);
  const results = useAsync(
    (signal) =>
      searching
        ? unwrap(
            api().GET("/customers", {
              params: {
                query: {
                  limit: 50,
                  cursor: paging.cursor ?? undefined,
                  email: query.get("email") || undefined,
                  q: query.get("q") || undefined,
                  tenantId: session.tenant ?? (query.get("tenantId") || undefined),
                  status: (query.get("status") || undefined) as "active" | "deactivated" | undefined,
                  kind: (query.get("kind") || undefined) as "human" | "service" | undefined,
                },
              },
              signal,
            }),
          )
        : Promise.resolve(null),
    [key, paging.cursor],
  );
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const values: Record<string, string> = {};
    for (const name of ["email", "q", "tenantId", "status", "kind"]) values[name] = String(form.get(name) ?? "").trim();
    navigate(`identities${queryString(values)}`);
  };
  return (
    <Page
      title="Identities"
      actions={
        <button type="button" onClick={() => setCreating(true)}>
          Create an identity
        </button>
      }
    >
      <form class="card filters" role="search" aria-label="Identities" onSubmit={submit}>
        <div class="field">
          <label for="i-email">Email (exact)</label>
          <input id="i-email" name="email" type="email" defaultValue={query.get("email") ?? ""} />
        </div>
        <div class="field">
          <label for="i-q">Email or name starts with</label>
          <input id="i-q" name="q" defaultValue={query.get("q") ?? ""} />
        </div>
        {session.tenant ? null : (
          <div class="field">
            <label for="i-tenant">Tenant id</label>
            <input id="i-tenant" name="tenantId" defaultValue={query.get("tenantId") ?? ""} />
          </div>
        )}
        <div class="field">
          <label for="i-status">Status</label>
          <select id="i-status" name="status">
            <option value="">Any</option>
            {["active", "deactivated"].map((status) => (
              <option value={status} selected={query.get("status") === status}>
                {humanize(status)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="i-kind">Kind</label>
          <select id="i-kind" name="kind">
            <option value="">Any</option>
            <option value="human" selected={query.get("kind") === "human"}>
              Person
            </option>
            <option value="service" selected={query.get("kind") === "service"}>
              Service account
            </option>
          </select>
        </div>
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </form>
      <Loaded state={results} label="identities">
        {(page) =>
          page === null ? (
            <p class="notice">Search by email (every tenant), or name a tenant to list its identities.</p>
          ) : (
            <>
              <DataTable caption={`Identities, page ${paging.page}`} columns={identityColumns({ tenant: !session.tenant })} rows={page.items} rowKey={(c) => c.customerId} empty="No identity matches." busy={results.loading} />
              <Pager label="Identities" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
            </>
          )
        }
      </Loaded>
      {creating ? <CreateIdentity tenant={session.tenant} onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}

function StatusChange({ customer, onClose, onDone }: { customer: Customer; onClose: () => void; onDone: () => void }) {
  const deactivate = customer.status === "active";
  const path = { params: { path: { customerId: customer.customerId } } };
  return (
    <ActionDialog
      title={deactivate ? "Deactivate this identity" : "Reactivate this identity"}
      description={
        <p>
          {deactivate
            ? "Every license of the identity stops validating at once, and its account is disabled at the identity provider."
            : "Its licenses validate again (unless revoked on their own) and its account is enabled."}
        </p>
      }
      confirmLabel={deactivate ? "Deactivate identity" : "Reactivate identity"}
      destructive={deactivate}
      run={(form) => {
        const reason = String(form.get("reason") ?? "").trim() || null;
        return deactivate
          ? unwrap(api().POST("/customers/{customerId}/deactivate", { ...path, body: { reason } }))
          : unwrap(api().POST("/customers/{customerId}/reactivate", { ...path, body: { reason } }));
      }}
      onDone={() => {
        toast(deactivate ? "Identity deactivated." : "Identity reactivated.");
        onDone();
      }}
      onClose={onClose}
    >
      <Field name="reason" label="Reason (optional)" maxLength={500} />
    </ActionDialog>
  );
}

export const IdentityDetail: Screen = ({ params }) => {
  const customerId = params.customerId!;
  const [version, setVersion] = useState(0);
  const [changing, setChanging] = useState(false);
  const names = useNames();
  const customer = useAsync((signal) => unwrap(api().GET("/customers/{customerId}", { params: { path: { customerId } }, signal })), [customerId, version]);
  const licenses = useAsync(
    (signal) => unwrap(api().GET("/customers/{customerId}/license-keys", { params: { path: { customerId }, query: { limit: 100 } }, signal })),
    [customerId, version],
  );
  const usage = useAsync((signal) => unwrap(api().GET("/customers/{customerId}/usage", { params: { path: { customerId }, query: { periods: 6 } }, signal })), [customerId]);
  return (
    <Page
      title={customer.data ? customer.data.email : `Identity ${customerId}`}
      actions={
        customer.data ? (
          <>
            <Link to={`licenses/new?email=${encodeURIComponent(customer.data.email)}`} class="button">
              Issue a license
            </Link>
            <button type="button" class={customer.data.status === "active" ? "danger" : "secondary"} onClick={() => setChanging(true)}>
              {customer.data.status === "active" ? "Deactivate" : "Reactivate"}
            </button>
          </>
        ) : null
      }
    >
      <Loaded state={customer} label="the identity">
        {(found) => (
          <>
            <Section title="Identity">
              <dl class="facts">
                <dt>Name</dt>
                <dd>{found.name}</dd>
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={found.status} />
                </dd>
                <dt>Kind</dt>
                <dd>{humanize(found.kind)}</dd>
                <dt>Tenant</dt>
                <dd>
                  <Link to={`tenants/${encodeURIComponent(found.tenantId)}`} class="mono">
                    {found.tenantId}
                  </Link>
                </dd>
                <dt>Identity id</dt>
                <dd class="mono">{found.customerId}</dd>
                <dt>Account (sub)</dt>
                <dd class="mono">{found.subject ?? "not signed in yet"}</dd>
                <dt>Created</dt>
                <dd>{formatDate(found.createdAt)}</dd>
                {Object.keys(found.metadata).length ? (
                  <>
                    <dt>Metadata</dt>
                    <dd>
                      <code>{JSON.stringify(found.metadata)}</code>
                    </dd>
                  </>
                ) : null}
              </dl>
            </Section>
            {changing ? <StatusChange customer={found} onClose={() => setChanging(false)} onDone={() => (setChanging(false), setVersion((n) => n + 1))} /> : null}
          </>
        )}
      </Loaded>
      <Section title="Licenses">
        <Loaded state={licenses} label="licenses">
          {(page) => <DataTable caption="The identity's licenses" columns={licenseColumns(names.data, { customer: false })} rows={page.items} rowKey={(l) => l.licenseId} empty="No license yet." />}
        </Loaded>
      </Section>
      <Section title="Usage">
        <Loaded state={usage} label="usage">
          {(list) => <UsageChart counters={list.items} />}
        </Loaded>
      </Section>
    </Page>
  );
};
