/** OpenID Connect sign-in (authorization code + PKCE, public client) and the session.
 *
 * Tokens live in this module's memory only: never in localStorage, sessionStorage or a
 * cookie, so a reload or a new tab signs in again (one redirect while the provider's
 * own session lasts). What survives the sign-in redirect in sessionStorage is the
 * request's state, nonce and PKCE verifier: useless without the provider's code,
 * and deleted as soon as the callback has used them.
 *
 * Step-up (RFC 9470) signs in again in a popup, so the page keeps its state and can
 * retry the refused action: the popup's callback page hands the code back over a
 * BroadcastChannel (same origin; no window.opener, which COOP severs) and this page,
 * which alone holds the verifier, redeems it. */

import type { ConsoleConfig } from "../config";
import type { StepUpChallenge } from "./challenge";
import { claimsOf, randomToken, s256 } from "./pkce";

export type Role = "platform-admin" | "tenant-admin" | "user";

export interface Session {
  bearer: string;
  idToken: string;
  expiresAt: number;
  subject: string;
  email: string | null;
  name: string | null;
  role: Role;
  /** The tenant of a tenant administrator. */
  tenant: string | null;
  authTime: number | null;
  acr: string | null;
}

interface Endpoints {
  authorization: string;
  token: string;
  endSession: string | null;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  maxAge: number | null;
}

const PENDING_KEY = "console.signin";
const CHANNEL = "console.auth";
/** Popup requests' states start with this: their callback page hands the code back. */
const POPUP_PREFIX = "p.";
const ADMIN_GROUP = "license-admins";
const TENANT_ADMIN_GROUP = "tenant-admins";
const TENANT_CLAIMS = ["tenant", "custom:tenant"];
const CLOCK_LEEWAY = 60;

export class AuthError extends Error {}

let config: ConsoleConfig;
let base = "/console/";
let endpoints: Endpoints | null = null;
let current: Session | null = null;
const listeners = new Set<(session: Session | null) => void>();

export function configure(settings: ConsoleConfig, basePath: string): void {
  config = settings;
  base = basePath;
}

export function session(): Session | null {
  if (current && current.expiresAt * 1000 <= Date.now()) setSession(null);
  return current;
}

export function subscribe(listener: (session: Session | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The API no longer takes the token (expired, revoked): forget it; the app asks the
 * person to sign in again. */
export function sessionEnded(): void {
  if (current) setSession(null);
}

function setSession(next: Session | null): void {
  current = next;
  for (const listener of listeners) listener(next);
}

function redirectUri(): string {
  return new URL(`${base}callback`, location.origin).href;
}

async function resolveEndpoints(): Promise<Endpoints> {
  if (endpoints) return endpoints;
  const oidc = config.oidc;
  if (oidc.authorizationEndpoint && oidc.tokenEndpoint) {
    endpoints = {
      authorization: oidc.authorizationEndpoint,
      token: oidc.tokenEndpoint,
      endSession: oidc.endSessionEndpoint ?? null,
    };
    return endpoints;
  }
  const url = oidc.discoveryUrl ?? `${oidc.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url);
  if (!response.ok) throw new AuthError(`the identity provider's configuration: HTTP ${response.status}`);
  const document = (await response.json()) as Record<string, unknown>;
  if (document.issuer !== oidc.issuer) throw new AuthError("the identity provider names another issuer");
  const authorization = document.authorization_endpoint;
  const token = document.token_endpoint;
  if (typeof authorization !== "string" || typeof token !== "string") {
    throw new AuthError("the identity provider has no authorization or token endpoint");
  }
  const endSession = document.end_session_endpoint;
  endpoints = { authorization, token, endSession: typeof endSession === "string" ? endSession : null };
  return endpoints;
}

export interface SignInOptions {
  returnTo?: string;
  acrValues?: string[];
  maxAge?: number | null;
  prompt?: "login";
  loginHint?: string | null;
}

async function authorizationRequest(pending: Pending, options: SignInOptions): Promise<string> {
  const { authorization } = await resolveEndpoints();
  const url = new URL(authorization);
  const params: Record<string, string> = {
    response_type: "code",
    client_id: config.oidc.clientId,
    redirect_uri: redirectUri(),
    scope: config.oidc.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await s256(pending.verifier),
    code_challenge_method: "S256",
  };
  if (options.acrValues?.length) params.acr_values = options.acrValues.join(" ");
  if (options.maxAge !== undefined && options.maxAge !== null) params.max_age = String(options.maxAge);
  if (options.prompt) params.prompt = options.prompt;
  if (options.loginHint) params.login_hint = options.loginHint;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

function newPending(returnTo: string, maxAge: number | null, popup: boolean): Pending {
  return {
    state: (popup ? POPUP_PREFIX : "") + randomToken(),
    nonce: randomToken(),
    verifier: randomToken(48),
    returnTo,
    maxAge,
  };
}

/** Leave for the provider's sign-in page; the callback comes back to `returnTo`. */
export async function signIn(options: SignInOptions = {}): Promise<void> {
  const pending = newPending(options.returnTo ?? location.pathname + location.search, options.maxAge ?? null, false);
  const url = await authorizationRequest(pending, options);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(url);
}

async function redeem(pending: Pending, code: string): Promise<Session> {
  const { token } = await resolveEndpoints();
  const response = await fetch(token, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: config.oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new AuthError(`sign-in refused by the identity provider: ${String(body.error_description ?? body.error ?? response.status)}`);
  }
  const idToken = body.id_token;
  const accessToken = body.access_token;
  if (typeof idToken !== "string" || typeof accessToken !== "string") {
    throw new AuthError("the identity provider returned no tokens");
  }
  return sessionFrom(idToken, accessToken, pending);
}

/** Checks of the ID token (OIDC Core 3.1.3.7): it came over TLS straight from the
 * token endpoint, so its signature is not checked here; the API checks the bearer's. */
export function sessionFrom(
  idToken: string,
  accessToken: string,
  pending: Pick<Pending, "nonce" | "maxAge">,
  settings: Pick<ConsoleConfig["oidc"], "issuer" | "clientId" | "bearer"> = config.oidc,
  now: number = Date.now() / 1000,
): Session {
  const id = claimsOf(idToken);
  const audience = Array.isArray(id.aud) ? id.aud : [id.aud];
  if (id.iss !== settings.issuer) throw new AuthError("the ID token comes from another issuer");
  if (!audience.includes(settings.clientId)) throw new AuthError("the ID token is meant for another client");
  if (id.nonce !== pending.nonce) throw new AuthError("the ID token answers another sign-in (nonce)");
  if (typeof id.exp !== "number" || id.exp + CLOCK_LEEWAY < now) throw new AuthError("the ID token has expired");
  if (typeof id.sub !== "string" || !id.sub) throw new AuthError("the ID token has no subject");
  const authTime = typeof id.auth_time === "number" ? id.auth_time : null;
  if (pending.maxAge !== null && (authTime === null || authTime + pending.maxAge + CLOCK_LEEWAY < now)) {
    throw new AuthError("the identity provider did not sign you in again");
  }
  const bearer = settings.bearer === "id" ? idToken : accessToken;
  const claims = settings.bearer === "id" ? id : claimsOf(accessToken);
  const groups = Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"] : Array.isArray(claims.groups) ? claims.groups : [];
  const tenantClaim = TENANT_CLAIMS.map((name) => claims[name]).find((value) => typeof value === "string");
  const role: Role = groups.includes(ADMIN_GROUP) ? "platform-admin" : groups.includes(TENANT_ADMIN_GROUP) ? "tenant-admin" : "user";
  const exp = typeof claims.exp === "number" ? claims.exp : id.exp;
  const acr = claims.acr ?? id.acr;
  const email = typeof id.email === "string" ? id.email : typeof id["cognito:username"] === "string" ? id["cognito:username"] : null;
  return {
    bearer,
    idToken,
    expiresAt: exp,
    subject: id.sub,
    email: email as string | null,
    name: typeof id.name === "string" ? id.name : null,
    role,
    tenant: role === "tenant-admin" && typeof tenantClaim === "string" ? tenantClaim : null,
    authTime,
    acr: typeof acr === "string" ? acr : null,
  };
}

export type CallbackResult = { kind: "signed-in"; returnTo: string } | { kind: "popup" } | { kind: "none" };

/** On `<base>callback`: finish a full-page sign-in, or hand a popup's code back. */
export async function handleCallback(url: URL): Promise<CallbackResult> {
  const state = url.searchParams.get("state");
  if (state === null) return { kind: "none" };
  const code = url.searchParams.get("code");
  const error = url.searchParams.get("error_description") ?? url.searchParams.get("error");
  if (state.startsWith(POPUP_PREFIX)) {
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage({ state, code, error });
    channel.close();
    return { kind: "popup" };
  }
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, "", base);
  const pending = stored ? (JSON.parse(stored) as Pending) : null;
  if (!pending || pending.state !== state) throw new AuthError("this sign-in was not started here; sign in again");
  if (error || !code) throw new AuthError(`sign-in failed: ${error ?? "no code"}`);
  setSession(await redeem(pending, code));
  return { kind: "signed-in", returnTo: pending.returnTo };
}

/** A step-up sign-in ready to open: `open()` must run in a click handler (popups need
 * the user's gesture), so everything asynchronous is done beforehand. */
export interface PreparedStepUp {
  open(): Promise<Session>;
  cancel(): void;
}

export async function prepareStepUp(challenge: StepUpChallenge): Promise<PreparedStepUp> {
  const before = session();
  const pending = newPending("", challenge.maxAge, true);
  const url = await authorizationRequest(pending, {
    acrValues: challenge.acrValues,
    maxAge: challenge.maxAge ?? 0,
    prompt: "login",
    loginHint: before?.email ?? null,
  });
  let channel: BroadcastChannel | null = null;
  let popup: Window | null = null;
  let reject: (error: Error) => void = () => undefined;
  const cancel = () => {
    channel?.close();
    popup?.close();
    reject(new AuthError("cancelled"));
  };
  return {
    cancel,
    open() {
      channel = new BroadcastChannel(CHANNEL);
      popup = window.open(url, "console-step-up", "popup,width=480,height=640");
      return new Promise<Session>((resolve, rejectWith) => {
        reject = rejectWith;
        if (popup === null) {
          channel?.close();
          rejectWith(new AuthError("the browser blocked the sign-in window; allow pop-ups for this site"));
          return;
        }
        channel!.onmessage = (event: MessageEvent) => {
          const message = event.data as { state?: string; code?: string | null; error?: string | null };
          if (message.state !== pending.state) return;
          channel?.close();
          if (message.error || !message.code) {
            rejectWith(new AuthError(`sign-in failed: ${message.error ?? "no code"}`));
            return;
          }
          redeem(pending, message.code).then((next) => {
            if (before && next.subject !== before.subject) {
              throw new AuthError("you signed in as someone else; sign out first to switch accounts");
            }
            setSession(next);
            resolve(next);
          }).catch(rejectWith);
        };
      });
    },
  };
}

/** Forget the tokens, then end the provider's session too where it says how. */
export async function signOut(): Promise<void> {
  const idToken = current?.idToken ?? null;
  setSession(null);
  sessionStorage.removeItem(PENDING_KEY);
  const home = new URL(base, location.origin).href;
  const { endSession } = await resolveEndpoints().catch(() => ({ endSession: null }));
  if (!endSession) {
    location.assign(home);
    return;
  }
  const url = new URL(endSession);
  url.searchParams.set("client_id", config.oidc.clientId);
  if (config.oidc.logout === "cognito") {
    url.searchParams.set("logout_uri", home);
  } else {
    url.searchParams.set("post_logout_redirect_uri", home);
    if (idToken) url.searchParams.set("id_token_hint", idToken);
  }
  location.assign(url.href);
}
