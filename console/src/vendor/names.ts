/** The catalog (products and their tiers) as the vendor screens show names for ids:
 * read once per sign-in, refreshed after a change. */

import { api, type Schemas, unwrap } from "../api/client";
import { useAsync } from "../ui/hooks";

export type Product = Schemas["Product"];
export type Tier = Schemas["Tier"];

let products: Promise<Product[]> | null = null;
const tiers = new Map<string, Promise<Tier[]>>();

async function allProducts(): Promise<Product[]> {
  const found: Product[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(api().GET("/products", { params: { query: { limit: 100, cursor } } }));
    found.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}

export function listProducts(): Promise<Product[]> {
  products ??= allProducts().catch((error: unknown) => {
    products = null;
    throw error;
  });
  return products;
}

export function listTiers(productId: string): Promise<Tier[]> {
  let found = tiers.get(productId);
  if (!found) {
    found = unwrap(api().GET("/products/{productId}/tiers", { params: { path: { productId } } })).then((list) => list.items);
    found.catch(() => tiers.delete(productId));
    tiers.set(productId, found);
  }
  return found;
}

/** Forget what was read (after creating a product or a tier). */
export function catalogChanged(productId?: string): void {
  products = null;
  if (productId) tiers.delete(productId);
  else tiers.clear();
}

export interface Names {
  product(id: string): string;
  tier(id: string): string;
  tiers: Map<string, Tier>;
  products: Product[];
}

/** Names of the products and tiers (ids while they load, or for what was deleted). */
export function useNames() {
  return useAsync<Names>(async () => {
    const found = await listProducts();
    const byTier = new Map<string, Tier>();
    for (const list of await Promise.all(found.map((product) => listTiers(product.productId)))) {
      for (const tier of list) byTier.set(tier.tierId, tier);
    }
    const byProduct = new Map(found.map((product) => [product.productId, product]));
    return {
      product: (id) => byProduct.get(id)?.name ?? id,
      tier: (id) => byTier.get(id)?.name ?? id,
      tiers: byTier,
      products: found,
    };
  }, []);
}
