import { useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { CopyButton } from "../ui/Copy";
import { ActionDialog, Field } from "../ui/Dialog";
import { formatDateTime, formatExpiry, formatRelative, humanize, isoDay } from "../ui/format";
import { useAsync, usePaging } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, Page, Section } from "../ui/Page";
import { ProblemMessage } from "../ui/Problem";
import { protectedAction } from "../ui/StepUp";
import { DataTable, Pager, StatusBadge } from "../ui/Table";
import { toast } from "../ui/Toast";
import { listTiers } from "./names";

type License = Schemas["License"];
type Activation = Schemas["ActivationView"];
type Action = "suspend" | "reinstate" | "renew" | "regenerate" | "revoke";

function text(form: FormData, name: string): string | undefined {
  const value = String(form.get(name) ?? "").trim();
  return value || undefined;
}

/** What each action asks, says and sends. */
function LicenseAction({ action, license, onClose, onDone }: { action: Action; license: License; onClose: () => void; onDone: (key?: Schemas["LicenseKey"]) => void }) {
  const path = { params: { path: { licenseId: license.licenseId } } };
  const done = (message: string) => (result: unknown) => {
    toast(message);
    onDone(result && typeof result === "object" && "keyToken" in result ? (result as Schemas["LicenseKey"]) : undefined);
  };
  const reason = (required: boolean) => (
    <Field name="reason" label={required ? "Reason" : "Reason (optional)"} required={required} maxLength={500} hint="Kept in the license's history and shown to support." />
  );
  switch (action) {
    case "revoke":
      return (
        <ActionDialog
          title="Revoke this license"
          description={<p>Revocation is final: the key and every machine token stop working at their next check. Machines holding seats lose them.</p>}
          confirmLabel="Revoke license"
          destructive
          run={(form) => unwrap(api().POST("/license-keys/{licenseId}/revoke", { ...path, body: { reason: text(form, "reason") ?? "" } }))}
          onDone={done("License revoked.")}
          onClose={onClose}
        >
          {reason(true)}
        </ActionDialog>
      );
    case "suspend":
      return (
        <ActionDialog
          title="Suspend this license"
          description={<p>A suspended license does not validate and its machines cannot renew their tokens until it is reinstated.</p>}
          confirmLabel="Suspend license"
          destructive
          run={(form) => unwrap(api().POST("/license-keys/{licenseId}/suspend", { ...path, body: { reason: text(form, "reason") ?? "" } }))}
          onDone={done("License suspended.")}
          onClose={onClose}
        >
          {reason(true)}
        </ActionDialog>
      );
    case "reinstate":
      return (
        <ActionDialog
          title="Reinstate this license"
          description={<p>The license becomes active again: its key validates and machines can renew their tokens.</p>}
          confirmLabel="Reinstate license"
          run={(form) => unwrap(api().POST("/license-keys/{licenseId}/reinstate", { ...path, body: { reason: text(form, "reason") ?? null } }))}
          onDone={done("License reinstated.")}
          onClose={onClose}
        >
          {reason(false)}
        </ActionDialog>
      );
    case "renew": {
      const next = new Date(Math.max(Date.now(), new Date(license.expiresAt).getTime()));
      next.setFullYear(next.getFullYear() + 1);
      return (
        <ActionDialog
          title="Renew this license"
          description={<p>The license runs until the new date; the next heartbeat or a regenerated key carries it.</p>}
          confirmLabel="Renew license"
          run={(form) => {
            const day = text(form, "expiresAt") ?? "";
            return unwrap(api().POST("/license-keys/{licenseId}/renew", { ...path, body: { expiresAt: new Date(`${day}T23:59:59`).toISOString() } }));
          }}
          onDone={done("License renewed.")}
          onClose={onClose}
        >
          <Field name="expiresAt" label="New expiry date" type="date" required value={isoDay(next)} min={isoDay(new Date())} />
        </ActionDialog>
      );
    }
    case "regenerate":
      return (
        <ActionDialog
          title="Regenerate the key"
          description={<p>A new key is signed with the license's current claims. Hand it to the customer.</p>}
          confirmLabel="Regenerate key"
          run={(form) => unwrap(api().POST("/license-keys/{licenseId}/regenerate", { ...path, body: { revokePrevious: form.get("revokePrevious") === "on" } }))}
          onDone={done("New key signed.")}
          onClose={onClose}
        >
          <div class="checkbox">
            <input id="revoke-previous" name="revokePrevious" type="checkbox" />
            <label for="revoke-previous">Make earlier keys invalid at once (they validate as superseded)</label>
          </div>
        </ActionDialog>
      );
  }
}

function MachineDeactivation({ license, machine, onClose, onDone }: { license: License; machine: Activation; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog
      title="Free this seat"
      description={
        <p>
          {machine.hostname ?? machine.machineId} loses its activation now; its token stops renewing and the seat is free for another machine.
        </p>
      }
      confirmLabel="Deactivate machine"
      destructive
      run={() =>
        unwrap(
          api().POST("/license-keys/{licenseId}/activations/{activationId}/deactivate", {
            params: { path: { licenseId: license.licenseId, activationId: machine.activationId } },
          }),
        )
      }
      onDone={() => {
        toast("Machine deactivated; the seat is free.");
        onDone();
      }}
      onClose={onClose}
    />
  );
}

function Machines({ license, version }: { license: License; version: number }) {
  const machines = useAsync(
    (signal) => unwrap(api().GET("/license-keys/{licenseId}/activations", { params: { path: { licenseId: license.licenseId } }, signal })),
    [license.licenseId, version],
  );
  const [freeing, setFreeing] = useState<Activation | null>(null);
  return (
    <Section title="Machines" actions={machines.data ? <span>{`${machines.data.activeSeats} of ${machines.data.maxUsers} seats used`}</span> : null}>
      <Loaded state={machines} label="machines">
        {(list) => (
          <DataTable
            caption="Activated machines"
            columns={[
              { header: "Hostname", cell: (m: Activation) => m.hostname ?? m.name ?? <span class="mono">{m.machineId}</span> },
              { header: "Platform", cell: (m: Activation) => m.platform ?? "—" },
              { header: "App version", cell: (m: Activation) => m.appVersion ?? "—" },
              { header: "Last heartbeat", cell: (m: Activation) => <time dateTime={m.lastHeartbeatAt} title={formatDateTime(m.lastHeartbeatAt)}>{formatRelative(m.lastHeartbeatAt)}</time> },
              { header: "State", cell: (m: Activation) => <StatusBadge status={m.dead ? "dead" : "alive"} /> },
              { header: "Machine id", cell: (m: Activation) => <span class="mono">{m.machineId}</span> },
              {
                header: "Actions",
                cell: (m: Activation) => (
                  <button type="button" class="secondary" onClick={() => setFreeing(m)} aria-label={`Deactivate ${m.hostname ?? m.machineId}`}>
                    Deactivate
                  </button>
                ),
              },
            ]}
            rows={list.items}
            rowKey={(m) => m.activationId}
            empty="No machine holds a seat."
          />
        )}
      </Loaded>
      {freeing ? <MachineDeactivation license={license} machine={freeing} onClose={() => setFreeing(null)} onDone={() => (setFreeing(null), machines.reload())} /> : null}
    </Section>
  );
}

function History({ licenseId, version }: { licenseId: string; version: number }) {
  const paging = usePaging([licenseId, version]);
  const history = useAsync(
    (signal) => unwrap(api().GET("/license-keys/{licenseId}/history", { params: { path: { licenseId }, query: { limit: 20, cursor: paging.cursor ?? undefined } }, signal })),
    [licenseId, paging.cursor, version],
  );
  type Entry = Schemas["HistoryEntry"];
  return (
    <Section title="History">
      <Loaded state={history} label="history">
        {(page) => (
          <>
            <DataTable
              caption="Audit history, newest first"
              columns={[
                { header: "When", cell: (entry: Entry) => <time dateTime={entry.at}>{formatDateTime(entry.at)}</time> },
                { header: "What", cell: (entry: Entry) => humanize(entry.action) },
                { header: "Who", cell: (entry: Entry) => entry.actor },
                { header: "Reason", cell: (entry: Entry) => entry.reason ?? "—" },
              ]}
              rows={page.items}
              rowKey={(entry) => `${entry.at}-${entry.action}`}
              empty="No history yet."
            />
            <Pager label="History" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
          </>
        )}
      </Loaded>
    </Section>
  );
}

function DriftCheck({ licenseId }: { licenseId: string }) {
  const [report, setReport] = useState<Schemas["AuditReport"] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      setReport(await protectedAction(() => unwrap(api().POST("/license-keys/{licenseId}/audit", { params: { path: { licenseId } }, body: { token: null } }))));
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  };
  type Difference = Schemas["Difference"];
  return (
    <Section
      title="Drift check"
      actions={
        <button type="button" class="secondary" onClick={check} disabled={busy}>
          {busy ? "Checking…" : "Check the last key"}
        </button>
      }
    >
      <p class="hint">Compares the claims of the last key issued with the license as stored now.</p>
      {error ? <ProblemMessage error={error} /> : null}
      {report ? (
        <div role="status">
          <p>
            Result: <StatusBadge status={report.status} />{" "}
            {report.status === "consistent" ? "the key says what the license says." : report.status === "encrypted" ? "the token is encrypted; nothing to compare." : `${report.differences.length} difference(s).`}
          </p>
          {report.differences.length ? (
            <DataTable
              caption="Differences"
              columns={[
                { header: "Claim", cell: (d: Difference) => <code>{d.claim}</code> },
                { header: "In the key", cell: (d: Difference) => <code>{JSON.stringify(d.inToken)}</code> },
                { header: "Expected", cell: (d: Difference) => <code>{JSON.stringify(d.expected)}</code> },
              ]}
              rows={report.differences}
              rowKey={(d) => d.claim}
              empty=""
            />
          ) : null}
        </div>
      ) : null}
    </Section>
  );
}

function Claims({ license }: { license: License }) {
  const tier = useAsync(async () => (await listTiers(license.productId)).find((item) => item.tierId === license.tierId) ?? null, [license.productId, license.tierId]);
  return (
    <Section title="Claims">
      <p class="hint">What the license's keys carry (from the license and its tier, resolved).</p>
      <Loaded state={tier} label="the tier">
        {(found) => (
          <dl class="facts">
            <dt>sub</dt>
            <dd class="mono">{license.licenseId}</dd>
            <dt>aud (product)</dt>
            <dd class="mono">{license.productCode}</dd>
            <dt>customer / tenant</dt>
            <dd class="mono">
              {license.customerId} / {license.tenantId}
            </dd>
            <dt>tier</dt>
            <dd>{found ? `${found.name} (${found.code})` : license.tierId}</dd>
            <dt>features</dt>
            <dd>
              {found?.resolved.features.length ? (
                <ul class="features">
                  {found.resolved.features.map((feature) => (
                    <li>{feature}</li>
                  ))}
                </ul>
              ) : (
                "none"
              )}
            </dd>
            <dt>limits</dt>
            <dd>{found ? `maxUsers ${found.maxUsers}, maxTenants ${found.maxTenants}${Object.keys(found.quotas).length ? `, quotas: ${Object.entries(found.quotas).map(([meter, quota]) => `${meter} ${quota.limit}/${quota.period}`).join(", ")}` : ""}` : "—"}</dd>
            <dt>heartbeat</dt>
            <dd>{found ? `every ${found.heartbeat.intervalSeconds} s, token valid ${found.heartbeat.ttlSeconds} s` : "—"}</dd>
            <dt>exp</dt>
            <dd>{formatExpiry(license.expiresAt, license.perpetual)}</dd>
            <dt>generation</dt>
            <dd>{license.generation}</dd>
          </dl>
        )}
      </Loaded>
    </Section>
  );
}

export default function LicenseDetail({ params }: ScreenProps & { params: Record<string, string> }) {
  const licenseId = params.licenseId!;
  const [version, setVersion] = useState(0);
  const license = useAsync((signal) => unwrap(api().GET("/license-keys/{licenseId}", { params: { path: { licenseId } }, signal })), [licenseId, version]);
  const [action, setAction] = useState<Action | null>(null);
  const [newKey, setNewKey] = useState<Schemas["LicenseKey"] | null>(null);
  const data = license.data;
  const actions: [Action, string, boolean][] = data
    ? [
        ["suspend", "Suspend", data.status === "active"],
        ["reinstate", "Reinstate", data.status === "suspended"],
        ["renew", "Renew", data.status !== "revoked" && !data.perpetual],
        ["regenerate", "Regenerate key", data.status === "active"],
        ["revoke", "Revoke", data.status !== "revoked"],
      ]
    : [];
  return (
    <Page
      title={`License ${licenseId}`}
      actions={actions
        .filter(([, , shown]) => shown)
        .map(([name, label]) => (
          <button type="button" class={name === "revoke" ? "danger" : "secondary"} onClick={() => setAction(name)}>
            {label}
          </button>
        ))}
    >
      <Loaded state={license} label="the license">
        {(found) => (
          <>
            <Section title="Summary">
              <dl class="facts">
                <dt>Standing</dt>
                <dd>
                  <StatusBadge status={found.standing} />
                  {found.statusNote?.reason ? ` — ${found.statusNote.reason}` : ""}
                  {found.statusNote?.by ? ` (${found.statusNote.by}, ${formatDateTime(found.statusNote.at)})` : ""}
                </dd>
                <dt>Identity</dt>
                <dd>
                  <Link to={`identities/${encodeURIComponent(found.customerId)}`} class="mono">
                    {found.customerId}
                  </Link>
                </dd>
                <dt>Tenant</dt>
                <dd>
                  <Link to={`tenants/${encodeURIComponent(found.tenantId)}`} class="mono">
                    {found.tenantId}
                  </Link>
                </dd>
                <dt>Product</dt>
                <dd>
                  <Link to={`catalog/${encodeURIComponent(found.productId)}`}>{found.productCode}</Link>
                </dd>
                <dt>Expires</dt>
                <dd>{formatExpiry(found.expiresAt, found.perpetual)}</dd>
                <dt>Seats used</dt>
                <dd>{found.activeSeats}</dd>
                <dt>Issued</dt>
                <dd>{formatDateTime(found.createdAt)}</dd>
                <dt>Last change</dt>
                <dd>{formatDateTime(found.updatedAt)}</dd>
              </dl>
            </Section>
            {newKey ? (
              <Section title="New key">
                <p>Hand this key to the customer; it is shown once.</p>
                <code class="key" tabIndex={0} aria-label="License key">
                  {newKey.keyToken}
                </code>
                <div class="actions">
                  <CopyButton text={newKey.keyToken} label="Copy key" />
                </div>
              </Section>
            ) : null}
            <Machines license={found} version={version} />
            <Claims license={found} />
            <DriftCheck licenseId={found.licenseId} />
            <History licenseId={found.licenseId} version={version} />
            {action ? (
              <LicenseAction
                action={action}
                license={found}
                onClose={() => setAction(null)}
                onDone={(key) => {
                  setAction(null);
                  if (key) setNewKey(key);
                  setVersion((n) => n + 1);
                }}
              />
            ) : null}
          </>
        )}
      </Loaded>
    </Page>
  );
}
