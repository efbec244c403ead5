import type { ComponentChildren, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Session, session as currentSession, signIn, signOut, subscribe } from "./auth/session";
import { BASE, type Location, navigate, useLocation } from "./router";
import { Link } from "./ui/Link";
import { ProblemMessage } from "./ui/Problem";
import { StepUpPrompt } from "./ui/StepUp";
import { Toasts } from "./ui/Toast";

export interface ScreenProps {
  location: Location;
  session: Session;
}

type Area = "vendor" | "portal";
type Screens = { default: FunctionComponent<ScreenProps> };

const AREAS: Record<Area, () => Promise<Screens>> = {
  vendor: () => import("./vendor/screens"),
  portal: () => import("./portal/screens"),
};

function useSession(): Session | null {
  const [value, setValue] = useState(currentSession);
  useEffect(() => subscribe(setValue), []);
  return value;
}

function isAdmin(session: Session): boolean {
  return session.role !== "user";
}

function areaOf(path: string, session: Session): Area {
  if (path === "portal" || path.startsWith("portal/")) return "portal";
  return isAdmin(session) ? "vendor" : "portal";
}

/** The screens of an area, loaded on first use (the portal never loads the console's). */
function AreaScreens({ area, location, session }: { area: Area } & ScreenProps) {
  const [loaded, setLoaded] = useState<{ area: Area; screens: Screens } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    let live = true;
    AREAS[area]().then(
      (screens) => live && setLoaded({ area, screens }),
      (failure: unknown) => live && setError(failure instanceof Error ? failure : new Error(String(failure))),
    );
    return () => {
      live = false;
    };
  }, [area]);
  if (error) return <ProblemMessage error={error} />;
  if (!loaded || loaded.area !== area) {
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  }
  const Screen = loaded.screens.default;
  return <Screen location={location} session={session} />;
}

interface NavItem {
  to: string;
  label: string;
}

function navItems(session: Session): NavItem[] {
  const portal = [
    { to: "portal", label: "My licenses" },
    { to: "portal/machines", label: "My machines" },
    { to: "portal/usage", label: "My usage" },
    { to: "portal/claim", label: "Claim a license" },
  ];
  if (!isAdmin(session)) return portal;
  const tenant = session.tenant;
  return [
    { to: "overview", label: "Overview" },
    { to: "licenses", label: "Licenses" },
    { to: "identities", label: "Identities" },
    tenant ? { to: `tenants/${encodeURIComponent(tenant)}`, label: "My tenant" } : { to: "tenants", label: "Tenants" },
    { to: "catalog", label: "Catalog" },
  ];
}

function isCurrent(item: NavItem, path: string): boolean {
  if (item.to === "portal") return path === "portal";
  return path === item.to || path.startsWith(`${item.to}/`);
}

function Shell({ session, location, children }: { session: Session; location: Location; children: ComponentChildren }) {
  const items = navItems(session);
  const roleName = { "platform-admin": "Platform administrator", "tenant-admin": "Tenant administrator", user: "Customer" }[session.role];
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link to="" class="brand">
          {isAdmin(session) ? "Licensing console" : "Customer portal"}
        </Link>
        <nav aria-label="Main">
          <ul>
            {items.map((item) => (
              <li>
                <Link to={item.to} aria-current={isCurrent(item, location.path) ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="account">
          <span class="who">
            <span class="who-name">{session.email ?? session.subject}</span>
            <span class="who-role">
              {roleName}
              {session.tenant ? ` · ${session.tenant}` : ""}
            </span>
          </span>
          <button type="button" class="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <Toasts />
      <StepUpPrompt />
    </>
  );
}

/** Moves focus to the new screen's heading after an in-app navigation. */
function useFocusOnNavigation(path: string): void {
  const [first, setFirst] = useState(true);
  useEffect(() => {
    if (first) {
      setFirst(false);
      return;
    }
    const focus = () => {
      const heading = document.getElementById("page-title");
      if (heading) heading.focus();
      else requestAnimationFrame(focus);
    };
    requestAnimationFrame(focus);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
}

export function App({ signInError }: { signInError: Error | null }) {
  const session = useSession();
  const location = useLocation();
  const [signedIn, setSignedIn] = useState(false);
  useFocusOnNavigation(location.path);
  useEffect(() => {
    if (session) setSignedIn(true);
    if (session && location.path === "") navigate(isAdmin(session) ? "overview" : "portal", { replace: true });
  }, [session, location.path]);
  if (!session) return <SignIn error={signInError} ended={signedIn} />;
  return (
    <Shell session={session} location={location}>
      <AreaScreens area={areaOf(location.path, session)} location={location} session={session} />
    </Shell>
  );
}

function SignIn({ error, ended }: { error: Error | null; ended: boolean }) {
  const [failure, setFailure] = useState<Error | null>(error);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = "Sign in · Licensing console";
  }, []);
  const start = () => {
    setBusy(true);
    const here = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
    signIn({ returnTo: here + location.search }).catch((reason: unknown) => {
      setBusy(false);
      setFailure(reason instanceof Error ? reason : new Error(String(reason)));
    });
  };
  return (
    <main id="main" class="sign-in">
      <h1>Licensing</h1>
      <p>Vendors manage licenses, identities and the catalog here; customers see their licenses, machines and usage.</p>
      {ended ? (
        <p class="notice" role="status">
          Your session ended: sign in again to go on where you were.
        </p>
      ) : null}
      {failure ? <ProblemMessage error={failure} /> : null}
      <button type="button" onClick={start} disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </main>
  );
}

export function PopupDone() {
  return (
    <main id="main" class="sign-in">
      <h1>Signed in</h1>
      <p>You can close this window; the console goes on with your action.</p>
    </main>
  );
}

export function BootFailure({ error }: { error: Error }) {
  return (
    <main id="main" class="sign-in">
      <h1>The console cannot start</h1>
      <ProblemMessage error={error} />
    </main>
  );
}
