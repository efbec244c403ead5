import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import type { Async } from "./hooks";
import { Link } from "./Link";
import { ProblemMessage } from "./Problem";

/** A screen: its heading (focused on arrival, so screen readers announce it), the
 * document title, and its actions. */
export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Licensing console`;
  }, [title]);
  return (
    <>
      <header class="page-header">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </header>
      {children}
    </>
  );
}

/** Loading, error or content of an {@link Async}. */
export function Loaded<T>({ state, label, children }: { state: Async<T>; label: string; children: (data: T) => ComponentChildren }) {
  if (state.error) return <ProblemMessage error={state.error} retry={state.reload} />;
  if (state.data === undefined) {
    return (
      <p class="loading" role="status">
        Loading {label}…
      </p>
    );
  }
  return <>{children(state.data)}</>;
}

export function Section({ title, id, actions, children }: { title: string; id?: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-heading`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <div class="card-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

export function NotFound() {
  return (
    <Page title="Not found">
      <p>
        Nothing lives at this address. <Link to="">Go to the start</Link>.
      </p>
    </Page>
  );
}
