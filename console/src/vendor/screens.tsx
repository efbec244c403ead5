import type { ScreenProps } from "../app";
import { Page } from "../ui/Page";

export default function VendorScreens({ location }: ScreenProps) {
  return <Page title="Overview">{location.path}</Page>;
}
