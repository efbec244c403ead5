import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { claimsOf } from "../auth/pkce";
import { match } from "../router";
import { CopyButton } from "../ui/Copy";
import { ActionDialog, Dialog } from "../ui/Dialog";
import { formatDateTime, formatExpiry, formatRelative } from "../ui/format";
import { useAsync, usePaging } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, NotFound, Page, Section } from "../ui/Page";
import { ProblemMessage } from "../ui/Problem";
import { protectedAction, StepUpCancelled } from "../ui/StepUp";
import { DataTable, Pager, StatusBadge } from "../ui/Table";
import { toast } from "../ui/Toast";
import { UsageChart } from "../ui/Usage";

type License = Schemas["License"];
type Machine = Schemas["OwnActivation"];

/** What the key says: features, limits, expiry (the customer's own key, read for display). */
function KeyClaims({ keyToken }: { keyToken: string }) {
  const claims = claimsOf(keyToken);
  const features = Array.isArray(claims.features) ? claims.features.map(String) : [];
  const limits = (claims.limits ?? {}) as Record<string, unknown>;
  return (
    <dl class="facts">
      <dt>Tier</dt>
      <dd>{String(claims.tier ?? "—")}</dd>
      <dt>Features</dt>
      <dd>
        {features.length ? (
          <ul class="features">
            {features.map((feature) => (
              <li>{feature}</li>
            ))}
          </ul>
        ) : (
          "none"
        )}
      </dd>
      <dt>Machines</dt>
      <dd>{String(limits.maxUsers ?? "—")}</dd>
    </dl>
  );
}

/** The license's key, asked for once the customer opens this (the API may ask for a
 * recent MFA sign-in first), with a copy button. */
function KeyDialog({ license, onClose }: { license: License; onClose: () => void }) {
  const key = useAsync(
    () => protectedAction(() => unwrap(api().GET("/user/licenses/{licenseId}/key", { params: { path: { licenseId: license.licenseId } } }))),
    [license.licenseId],
  );
  const cancelled = key.error instanceof StepUpCancelled;
  useEffect(() => {
    if (cancelled) onClose();
  }, [cancelled, onClose]);
  return (
    <Dialog title={`Key of ${license.productCode}`} onClose={onClose}>
      <Loaded state={key} label="the key">
        {(found) => (
          <>
            <p>Paste it into the application. Keep it to yourself: it is your license.</p>
            <code class="key" tabIndex={0} aria-label="License key">
              {found.keyToken}
            </code>
            <KeyClaims keyToken={found.keyToken} />
          </>
        )}
      </Loaded>
      <div class="dialog-buttons">
        {key.data ? <CopyButton text={key.data.keyToken} label="Copy key" className="" /> : null}
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

function MyLicenses() {
  const paging = usePaging([]);
  const licenses = useAsync((signal) => unwrap(api().GET("/user/licenses", { params: { query: { limit: 25, cursor: paging.cursor ?? undefined } }, signal })), [paging.cursor]);
  const [showing, setShowing] = useState<License | null>(null);
  return (
    <Page title="My licenses">
      <Loaded state={licenses} label="your licenses">
        {(page) =>
          page.items.length === 0 && paging.page === 1 ? (
            <div class="notice">
              <p>You have no license yet.</p>
              <p>
                Registered for one? <Link to="portal/claim">Claim it</Link>.
              </p>
            </div>
          ) : (
            <>
              <div class="grid">
                {page.items.map((license) => (
                  <article class="card" aria-labelledby={`l-${license.licenseId}`}>
                    <h2 id={`l-${license.licenseId}`}>{license.productCode}</h2>
                    <dl class="facts">
                      <dt>Standing</dt>
                      <dd>
                        <StatusBadge status={license.standing} />
                      </dd>
                      <dt>Expires</dt>
                      <dd>{formatExpiry(license.expiresAt, license.perpetual)}</dd>
                      <dt>Machines</dt>
                      <dd>{license.activeSeats} in use</dd>
                      <dt>License id</dt>
                      <dd class="mono">{license.licenseId}</dd>
                    </dl>
                    <div class="actions">
                      <button type="button" onClick={() => setShowing(license)} aria-label={`Show key of ${license.productCode}`}>
                        Show key
                      </button>
                      <Link to="portal/machines" class="button">
                        Machines
                      </Link>
                    </div>
                  </article>
                ))}
              </div>
              <Pager label="Licenses" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
            </>
          )
        }
      </Loaded>
      {showing ? <KeyDialog license={showing} onClose={() => setShowing(null)} /> : null}
    </Page>
  );
}

function MyMachines() {
  const [version, setVersion] = useState(0);
  const paging = usePaging([version]);
  const machines = useAsync((signal) => unwrap(api().GET("/user/activations", { params: { query: { limit: 10, cursor: paging.cursor ?? undefined } }, signal })), [paging.cursor, version]);
  const [freeing, setFreeing] = useState<Machine | null>(null);
  return (
    <Page title="My machines">
      <p>Each activated machine holds one seat of its license. Free a seat you no longer use (a lost or replaced computer) to activate another machine.</p>
      <Loaded state={machines} label="your machines">
        {(page) => (
          <>
            <DataTable
              caption="Machines holding a seat"
              columns={[
                { header: "Machine", cell: (m: Machine) => m.hostname ?? m.name ?? <span class="mono">{m.machineId}</span> },
                { header: "Product", cell: (m: Machine) => m.productCode },
                { header: "Platform", cell: (m: Machine) => m.platform ?? "—" },
                { header: "App version", cell: (m: Machine) => m.appVersion ?? "—" },
                { header: "Last seen", cell: (m: Machine) => <time dateTime={m.lastHeartbeatAt} title={formatDateTime(m.lastHeartbeatAt)}>{formatRelative(m.lastHeartbeatAt)}</time> },
                { header: "State", cell: (m: Machine) => <StatusBadge status={m.dead ? "dead" : "alive"} /> },
                {
                  header: "Actions",
                  cell: (m: Machine) => (
                    <button type="button" class="secondary" onClick={() => setFreeing(m)} aria-label={`Free seat of ${m.hostname ?? m.machineId}`}>
                      Free seat
                    </button>
                  ),
                },
              ]}
              rows={page.items}
              rowKey={(m) => m.activationId}
              empty="No machine holds a seat."
            />
            <Pager label="Machines" page={paging.page} nextCursor={page.nextCursor} onNext={paging.next} onPrevious={paging.previous} />
          </>
        )}
      </Loaded>
      {freeing ? (
        <ActionDialog
          title="Free this seat"
          description={<p>{freeing.hostname ?? freeing.machineId} stops being licensed at its next check; the seat is free for another machine.</p>}
          confirmLabel="Free seat"
          destructive
          run={() => unwrap(api().POST("/user/activations/{activationId}/deactivate", { params: { path: { activationId: freeing.activationId } } }))}
          onDone={() => {
            toast("Seat freed.");
            setFreeing(null);
            setVersion((n) => n + 1);
          }}
          onClose={() => setFreeing(null)}
        />
      ) : null}
    </Page>
  );
}

function MyUsage() {
  const usage = useAsync((signal) => unwrap(api().GET("/user/usage", { params: { query: { periods: 6 } }, signal })), []);
  return (
    <Page title="My usage">
      <Section title="Usage of your licenses' quotas">
        <Loaded state={usage} label="your usage">
          {(list) => <UsageChart counters={list.items} />}
        </Loaded>
      </Section>
    </Page>
  );
}

function Claim() {
  const [claimed, setClaimed] = useState<Schemas["LicenseKey"] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get("productCode") ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      setClaimed(await protectedAction(() => unwrap(api().POST("/user/claim-license", { body: { productCode: code || null } }))));
      requestAnimationFrame(() => heading.current?.focus());
    } catch (failure) {
      if (!(failure instanceof StepUpCancelled)) setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Claim a license">
      {claimed ? (
        <Section title="Your license">
          <h3 ref={heading} tabIndex={-1}>
            License claimed
          </h3>
          <code class="key" tabIndex={0} aria-label="License key">
            {claimed.keyToken}
          </code>
          <KeyClaims keyToken={claimed.keyToken} />
          <div class="actions">
            <CopyButton text={claimed.keyToken} label="Copy key" />
            <Link to="portal" class="button">
              My licenses
            </Link>
          </div>
        </Section>
      ) : (
        <form class="card" onSubmit={submit}>
          <p>You registered for a license with this account's email address: claim it to get your key.</p>
          <div class="field">
            <label for="claim-product">Product code (optional)</label>
            <input id="claim-product" name="productCode" aria-describedby="claim-hint" />
            <p class="hint" id="claim-hint">
              Only if you registered for several products; otherwise the latest registration.
            </p>
          </div>
          {error ? <ProblemMessage error={error} /> : null}
          <button type="submit" disabled={busy}>
            {busy ? "Claiming…" : "Claim my license"}
          </button>
        </form>
      )}
    </Page>
  );
}

const SCREENS: [string, () => preact.JSX.Element][] = [
  ["portal", MyLicenses],
  ["portal/machines", MyMachines],
  ["portal/usage", MyUsage],
  ["portal/claim", Claim],
];

export default function PortalScreens({ location }: ScreenProps) {
  const found = SCREENS.find(([pattern]) => match(pattern, location.path) !== null);
  if (!found) return <NotFound />;
  const Screen = found[1];
  return <Screen />;
}
