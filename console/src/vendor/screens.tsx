import type { ComponentType } from "preact";
import type { ScreenProps } from "../app";
import { match } from "../router";
import { NotFound } from "../ui/Page";
import Catalog, { ProductDetail } from "./Catalog";
import Identities, { IdentityDetail } from "./Identities";
import IssueLicense from "./IssueLicense";
import LicenseDetail from "./LicenseDetail";
import Licenses from "./Licenses";
import Overview from "./Overview";
import Tenants, { TenantDetail } from "./Tenants";

/** A screen gets the path's parameters (`licenses/:licenseId` -> `params.licenseId`). */
export type Screen = ComponentType<ScreenProps & { params: Record<string, string> }>;

/** The vendor console's screens, by path below the base; the first match wins. */
const SCREENS: [string, Screen][] = [
  ["overview", Overview],
  ["licenses", Licenses],
  ["licenses/new", IssueLicense],
  ["licenses/:licenseId", LicenseDetail],
  ["identities", Identities],
  ["identities/:customerId", IdentityDetail],
  ["tenants", Tenants],
  ["tenants/:tenantId", TenantDetail],
  ["catalog", Catalog],
  ["catalog/:productId", ProductDetail],
];

export default function VendorScreens(props: ScreenProps) {
  for (const [pattern, Screen] of SCREENS) {
    const params = match(pattern, props.location.path);
    if (params) return <Screen {...props} params={params} />;
  }
  return <NotFound />;
}
