import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, api, newIdempotencyKey, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { CopyButton } from "../ui/Copy";
import { isoDay } from "../ui/format";
import { Link } from "../ui/Link";
import { Page, Section } from "../ui/Page";
import { ProblemMessage } from "../ui/Problem";
import { protectedAction, StepUpCancelled } from "../ui/StepUp";
import { listTiers, type Tier, useNames } from "./names";

/** Issue a license: product and tier, the identity (by email: created with the license
 * when new), expiry or perpetual. One idempotency key per form, so a retried submit
 * (a lost answer, a step-up) never issues twice. */
export default function IssueLicense({ location, session }: ScreenProps) {
  const names = useNames();
  const [productId, setProductId] = useState("");
  const [tiers, setTiers] = useState<Tier[]>([]);
  const [perpetual, setPerpetual] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [issued, setIssued] = useState<Schemas["IssuedLicense"] | null>(null);
  const idempotencyKey = useRef(newIdempotencyKey());
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const id = useId();

  useEffect(() => {
    const first = names.data?.products[0]?.productId;
    if (!productId && first) setProductId(first);
  }, [names.data, productId]);
  useEffect(() => {
    let live = true;
    if (productId) void listTiers(productId).then((list) => live && setTiers(list));
    return () => {
      live = false;
    };
  }, [productId]);
  useEffect(() => {
    if (issued) resultHeading.current?.focus();
  }, [issued]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? "").trim();
    const tenantId = session.tenant ? null : value("tenantId") || null;
    const body: Schemas["LicenseCreate"] = {
      productId: value("productId"),
      tierId: value("tierId"),
      customerEmail: value("email"),
      customerId: null,
      tenantId,
      perpetual,
      expiresAt: perpetual ? null : new Date(`${value("expiresAt")}T23:59:59`).toISOString(),
    };
    setBusy(true);
    setError(null);
    try {
      const result = await protectedAction(() =>
        unwrap(api().POST("/license-keys", { params: { header: { "Idempotency-Key": idempotencyKey.current } }, body })),
      );
      setIssued(result);
      idempotencyKey.current = newIdempotencyKey();
    } catch (failure) {
      if (!(failure instanceof StepUpCancelled)) setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldErrors().get(name) : undefined);
  const inAYear = new Date();
  inAYear.setFullYear(inAYear.getFullYear() + 1);
  return (
    <Page title="Issue a license">
      {issued ? (
        <Section title="License issued">
          <h3 ref={resultHeading} tabIndex={-1}>
            {issued.customerCreated ? "A new identity was created with the license." : "The license belongs to the existing identity."}
          </h3>
          <p>The key is shown here once; the customer can also copy it from their portal.</p>
          <code class="key" tabIndex={0} aria-label="License key">
            {issued.keyToken}
          </code>
          <div class="actions">
            <CopyButton text={issued.keyToken} label="Copy key" />
            <Link to={`licenses/${encodeURIComponent(issued.licenseId)}`} class="button">
              Open the license
            </Link>
            <button type="button" class="secondary" onClick={() => setIssued(null)}>
              Issue another
            </button>
          </div>
        </Section>
      ) : (
        <form class="card" onSubmit={submit} aria-describedby={`${id}-intro`}>
          <p id={`${id}-intro`}>The identity is found by its email address; a new address creates the identity with the license.</p>
          <div class="field">
            <label for={`${id}-email`}>Customer email</label>
            <input id={`${id}-email`} name="email" type="email" required defaultValue={location.query.get("email") ?? ""} aria-invalid={fieldError("customerEmail") ? "true" : undefined} />
          </div>
          {session.tenant ? null : (
            <div class="field">
              <label for={`${id}-tenant`}>Tenant id (optional)</label>
              <input id={`${id}-tenant`} name="tenantId" aria-describedby={`${id}-tenant-hint`} />
              <p class="hint" id={`${id}-tenant-hint`}>
                Where a new identity is created; default: the default tenant.
              </p>
            </div>
          )}
          <div class="field">
            <label for={`${id}-product`}>Product</label>
            <select id={`${id}-product`} name="productId" required value={productId} onChange={(event) => setProductId((event.currentTarget as HTMLSelectElement).value)}>
              {names.data?.products.map((product) => (
                <option value={product.productId}>{product.name}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for={`${id}-tier`}>Tier</label>
            <select id={`${id}-tier`} name="tierId" required>
              {tiers.map((tier) => (
                <option value={tier.tierId}>
                  {tier.name} — {tier.maxUsers} seat{tier.maxUsers === 1 ? "" : "s"}
                  {tier.sensitive ? " (needs MFA)" : ""}
                </option>
              ))}
            </select>
          </div>
          <div class="checkbox">
            <input id={`${id}-perpetual`} type="checkbox" checked={perpetual} onChange={(event) => setPerpetual((event.currentTarget as HTMLInputElement).checked)} />
            <label for={`${id}-perpetual`}>Perpetual (never expires)</label>
          </div>
          {perpetual ? null : (
            <div class="field">
              <label for={`${id}-expires`}>Expires on</label>
              <input id={`${id}-expires`} name="expiresAt" type="date" required defaultValue={isoDay(inAYear)} min={isoDay(new Date())} />
            </div>
          )}
          {error ? <ProblemMessage error={error} /> : null}
          <div class="actions">
            <button type="submit" disabled={busy}>
              {busy ? "Issuing…" : "Issue license"}
            </button>
          </div>
        </form>
      )}
    </Page>
  );
}
