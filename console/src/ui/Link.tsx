import type { ComponentChildren } from "preact";
import { href, isModifiedClick, navigate } from "../router";

interface Props {
  to: string;
  children: ComponentChildren;
  class?: string;
  id?: string;
  "aria-current"?: "page" | undefined;
  "aria-label"?: string;
}

/** An ordinary link (opens in a new tab with a modifier) that navigates in place. */
export function Link({ to, children, ...rest }: Props) {
  const onClick = (event: MouseEvent) => {
    if (isModifiedClick(event)) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={href(to)} onClick={onClick}>
      {children}
    </a>
  );
}
