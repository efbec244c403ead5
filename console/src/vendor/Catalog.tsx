import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, type Schemas, unwrap } from "../api/client";
import type { ScreenProps } from "../app";
import { navigate } from "../router";
import { ActionDialog, Field } from "../ui/Dialog";
import { formatDate, formatMoney } from "../ui/format";
import { useAsync } from "../ui/hooks";
import { Link } from "../ui/Link";
import { Loaded, Page, Section } from "../ui/Page";
import { DataTable } from "../ui/Table";
import { toast } from "../ui/Toast";
import { catalogChanged, listProducts, listTiers, type Product, type Tier } from "./names";
import type { Screen } from "./screens";

function CreateProduct({ onClose }: { onClose: () => void }) {
  return (
    <ActionDialog
      title="Create a product"
      description={<p>The code is the audience (`aud`) of the product's keys: it never changes.</p>}
      confirmLabel="Create product"
      run={(form) => {
        const value = (name: string) => String(form.get(name) ?? "").trim();
        return unwrap(api().POST("/products", { body: { code: value("code"), name: value("name"), description: value("description") || null } }));
      }}
      onDone={(product) => {
        catalogChanged();
        toast(`Product ${product.name} created.`);
        navigate(`catalog/${encodeURIComponent(product.productId)}`);
      }}
      onClose={onClose}
    >
      <Field name="code" label="Code" required placeholder="Acme.Editor" maxLength={64} />
      <Field name="name" label="Name" required maxLength={200} />
      <Field name="description" label="Description (optional)" maxLength={2000} />
    </ActionDialog>
  );
}

export default function Catalog({ session }: ScreenProps) {
  const [creating, setCreating] = useState(false);
  const products = useAsync(() => listProducts(), []);
  const platform = session.role === "platform-admin";
  return (
    <Page
      title="Catalog"
      actions={
        platform ? (
          <button type="button" onClick={() => setCreating(true)}>
            Create a product
          </button>
        ) : null
      }
    >
      <Loaded state={products} label="products">
        {(list) => (
          <DataTable
            caption="Products"
            columns={[
              { header: "Product", cell: (p: Product) => <Link to={`catalog/${encodeURIComponent(p.productId)}`}>{p.name}</Link> },
              { header: "Code", cell: (p: Product) => <code>{p.code}</code> },
              { header: "Description", cell: (p: Product) => p.description ?? "—" },
              { header: "Created", cell: (p: Product) => formatDate(p.createdAt) },
            ]}
            rows={list}
            rowKey={(p) => p.productId}
            empty="No product yet."
          />
        )}
      </Loaded>
      {creating ? <CreateProduct onClose={() => setCreating(false)} /> : null}
    </Page>
  );
}

function CreateFeature({ productId, onClose, onDone }: { productId: string; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog
      title="Add a feature"
      description={<p>Display-only features appear on pricing pages and never in a key.</p>}
      confirmLabel="Add feature"
      run={(form) => {
        const value = (name: string) => String(form.get(name) ?? "").trim();
        return unwrap(
          api().POST("/products/{productId}/features", {
            params: { path: { productId } },
            body: { key: value("key"), name: value("name"), description: value("description") || null, displayOnly: form.get("displayOnly") === "on" },
          }),
        );
      }}
      onDone={(feature) => {
        toast(`Feature ${feature.name} added.`);
        onDone();
      }}
      onClose={onClose}
    >
      <Field name="key" label="Key" required placeholder="sso" hint="Lower case letters, digits and _: what applications check." />
      <Field name="name" label="Name" required maxLength={200} />
      <Field name="description" label="Description (optional)" maxLength={2000} />
      <div class="checkbox">
        <input id="f-display-only" name="displayOnly" type="checkbox" />
        <label for="f-display-only">Display only (never in a key)</label>
      </div>
    </ActionDialog>
  );
}

function CreateTier({ productId, tiers, features, onClose, onDone }: { productId: string; tiers: Tier[]; features: Schemas["Feature"][]; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog
      title="Add a tier"
      description={<p>A tier includes its parent's features, transitively. Prices are in minor units (cents).</p>}
      confirmLabel="Add tier"
      run={(form) => {
        const value = (name: string) => String(form.get(name) ?? "").trim();
        const price = (name: string) => (value(name) === "" ? null : Number(value(name)));
        const monthly = price("monthlyPrice");
        const annual = price("annualPrice");
        return unwrap(
          api().POST("/products/{productId}/tiers", {
            params: { path: { productId } },
            body: {
              code: value("code"),
              name: value("name"),
              description: null,
              includesTierId: value("includesTierId") || null,
              monthlyPrice: monthly,
              annualPrice: annual,
              currency: value("currency").toUpperCase(),
              billingPeriods: [...(monthly !== null ? ["monthly" as const] : []), ...(annual !== null ? ["annual" as const] : [])],
              maxUsers: Number(value("maxUsers")),
              maxTenants: Number(value("maxTenants") || 1),
              features: form.getAll("features").map(String),
              selfService: form.get("selfService") === "on",
              sensitive: form.get("sensitive") === "on",
            },
          }),
        );
      }}
      onDone={(tier) => {
        catalogChanged(productId);
        toast(`Tier ${tier.name} added.`);
        onDone();
      }}
      onClose={onClose}
    >
      <Field name="code" label="Code" required placeholder="pro" maxLength={64} />
      <Field name="name" label="Name" required maxLength={200} />
      <Field name="includesTierId" label="Includes (parent tier)">
        <option value="">None</option>
        {tiers.map((tier) => (
          <option value={tier.tierId}>{tier.name}</option>
        ))}
      </Field>
      <Field name="monthlyPrice" label="Monthly price (minor units)" type="number" min={0} hint="Empty: not sold monthly." />
      <Field name="annualPrice" label="Annual price (minor units)" type="number" min={0} hint="Empty: not sold annually." />
      <Field name="currency" label="Currency" required value="EUR" maxLength={3} />
      <Field name="maxUsers" label="Seats (machines per license)" type="number" min={1} required value="1" />
      <Field name="maxTenants" label="Tenants per license" type="number" min={1} value="1" />
      <fieldset class="field">
        <legend>Own features</legend>
        {features.map((feature) => (
          <div class="checkbox">
            <input id={`tf-${feature.key}`} name="features" value={feature.key} type="checkbox" />
            <label for={`tf-${feature.key}`}>
              {feature.name} <code>{feature.key}</code>
              {feature.displayOnly ? " (display only)" : ""}
            </label>
          </div>
        ))}
      </fieldset>
      <div class="checkbox">
        <input id="t-self" name="selfService" type="checkbox" />
        <label for="t-self">Open to self-service registration</label>
      </div>
      <div class="checkbox">
        <input id="t-sensitive" name="sensitive" type="checkbox" />
        <label for="t-sensitive">Sensitive: issuing it needs a recent MFA sign-in</label>
      </div>
    </ActionDialog>
  );
}

/** Tiers as their inheritance tree: each under the tier it includes. */
function TierTree({ tiers, parent, features }: { tiers: Tier[]; parent: string | null; features: Map<string, Schemas["Feature"]> }): ComponentChildren {
  const children = tiers.filter((tier) => (tier.includesTierId ?? null) === parent);
  if (children.length === 0) return null;
  return (
    <ul class={parent === null ? "tree" : undefined}>
      {children.map((tier) => {
        const own = new Set(tier.features);
        return (
          <li>
            <strong>{tier.name}</strong> <code>{tier.code}</code> — {tier.maxUsers} seat{tier.maxUsers === 1 ? "" : "s"}
            {tier.selfService ? ", self-service" : ""}
            {tier.sensitive ? ", sensitive" : ""}
            <ul class="features" aria-label={`${tier.name}: resolved features`}>
              {[...new Set([...tier.resolved.features, ...tier.resolved.displayFeatures])].map((key) => (
                <li class={own.has(key) ? undefined : "inherited"}>
                  {features.get(key)?.name ?? key}
                  {own.has(key) ? "" : " (inherited)"}
                  {tier.resolved.features.includes(key) ? "" : " (display only)"}
                </li>
              ))}
            </ul>
            <TierTree tiers={tiers} parent={tier.tierId} features={features} />
          </li>
        );
      })}
    </ul>
  );
}

function PricingPreview({ productId, version }: { productId: string; version: number }) {
  const pricing = useAsync((signal) => unwrap(api().GET("/products/{productId}/pricing", { params: { path: { productId } }, signal })), [productId, version]);
  return (
    <Section title="Pricing preview">
      <p class="hint">What the public pricing endpoint answers (self-service tiers link to registration).</p>
      <Loaded state={pricing} label="pricing">
        {(found) => (
          <div class="grid">
            {found.tiers.map((tier) => (
              <article class="card" aria-label={`${tier.name} plan`}>
                <h3>{tier.name}</h3>
                <p>
                  {tier.monthlyPrice !== null && tier.monthlyPrice !== undefined ? `${formatMoney(tier.monthlyPrice, tier.currency)} per month` : ""}
                  {tier.annualPrice !== null && tier.annualPrice !== undefined ? ` · ${formatMoney(tier.annualPrice, tier.currency)} per year` : ""}
                </p>
                <p>
                  {tier.maxUsers} seat{tier.maxUsers === 1 ? "" : "s"}
                  {tier.includes ? ` · everything in ${tier.includes}` : ""}
                </p>
                <ul>
                  {tier.features.map((feature) => (
                    <li>{feature.name}</li>
                  ))}
                </ul>
              </article>
            ))}
          </div>
        )}
      </Loaded>
    </Section>
  );
}

export const ProductDetail: Screen = ({ params, session }) => {
  const productId = params.productId!;
  const platform = session.role === "platform-admin";
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<"feature" | "tier" | null>(null);
  const product = useAsync((signal) => unwrap(api().GET("/products/{productId}", { params: { path: { productId } }, signal })), [productId]);
  const features = useAsync((signal) => unwrap(api().GET("/products/{productId}/features", { params: { path: { productId } }, signal })), [productId, version]);
  const tiers = useAsync(() => listTiers(productId), [productId, version]);
  const changed = () => {
    setDialog(null);
    catalogChanged(productId);
    setVersion((n) => n + 1);
  };
  type Feature = Schemas["Feature"];
  const featureMap = new Map((features.data?.items ?? []).map((feature) => [feature.key, feature]));
  return (
    <Page title={product.data ? product.data.name : `Product ${productId}`}>
      <Loaded state={product} label="the product">
        {(found) => (
          <Section title="Product">
            <dl class="facts">
              <dt>Code (aud)</dt>
              <dd>
                <code>{found.code}</code>
              </dd>
              <dt>Product id</dt>
              <dd class="mono">{found.productId}</dd>
              <dt>Description</dt>
              <dd>{found.description ?? "—"}</dd>
            </dl>
          </Section>
        )}
      </Loaded>
      <Section
        title="Features"
        actions={
          platform ? (
            <button type="button" class="secondary" onClick={() => setDialog("feature")}>
              Add a feature
            </button>
          ) : null
        }
      >
        <Loaded state={features} label="features">
          {(list) => (
            <DataTable
              caption="Features"
              columns={[
                { header: "Key", cell: (f: Feature) => <code>{f.key}</code> },
                { header: "Name", cell: (f: Feature) => f.name },
                { header: "In keys", cell: (f: Feature) => (f.displayOnly ? "No (display only)" : "Yes") },
                { header: "Description", cell: (f: Feature) => f.description ?? "—" },
              ]}
              rows={list.items}
              rowKey={(f) => f.key}
              empty="No feature yet."
            />
          )}
        </Loaded>
      </Section>
      <Section
        title="Tiers"
        actions={
          platform ? (
            <button type="button" class="secondary" onClick={() => setDialog("tier")}>
              Add a tier
            </button>
          ) : null
        }
      >
        <Loaded state={tiers} label="tiers">
          {(list) => (list.length ? <TierTree tiers={list} parent={null} features={featureMap} /> : <p>No tier yet.</p>)}
        </Loaded>
      </Section>
      <PricingPreview productId={productId} version={version} />
      {dialog === "feature" ? <CreateFeature productId={productId} onClose={() => setDialog(null)} onDone={changed} /> : null}
      {dialog === "tier" ? <CreateTier productId={productId} tiers={tiers.data ?? []} features={features.data?.items ?? []} onClose={() => setDialog(null)} onDone={changed} /> : null}
    </Page>
  );
};
