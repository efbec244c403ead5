import type { ScreenProps } from "../app";
import { Page } from "../ui/Page";

export default function PortalScreens({ location }: ScreenProps) {
  return <Page title="My licenses">{location.path}</Page>;
}
