/** The deployment's settings, read at start from `config.json` next to index.html:
 * the local server answers it from its own settings, CDK writes it into the bucket. */

export interface OidcSettings {
  /** `iss` of the identity provider's tokens. */
  issuer: string;
  /** The console's own (public, PKCE) client. */
  clientId: string;
  scope: string;
  /** Where the provider's OpenID configuration lives; default: under the issuer. */
  discoveryUrl?: string;
  /** Endpoints given here need no discovery (Cognito's live on its own domain). */
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  endSessionEndpoint?: string;
  /** How sign-out is asked for: OpenID RP-initiated logout, or Cognito's `/logout`. */
  logout?: "oidc" | "cognito";
  /** Which token the API gets: the access token, or the ID token (Cognito puts the
   * tenant and the step-up claims in ID tokens without a pre-token trigger). */
  bearer?: "access" | "id";
}

export interface ConsoleConfig {
  /** The API's base URL, without a trailing slash. */
  apiUrl: string;
  oidc: OidcSettings;
}

export class ConfigError extends Error {}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(`config.json: ${name} is missing`);
  return value;
}

function optional(value: unknown, name: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, name);
}

/** The settings in a parsed config.json, checked. */
export function parseConfig(raw: unknown): ConsoleConfig {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("config.json is not an object");
  const document = raw as Record<string, unknown>;
  const oidc = (document.oidc ?? {}) as Record<string, unknown>;
  const logout = oidc.logout ?? "oidc";
  const bearer = oidc.bearer ?? "access";
  if (logout !== "oidc" && logout !== "cognito") throw new ConfigError("config.json: oidc.logout");
  if (bearer !== "access" && bearer !== "id") throw new ConfigError("config.json: oidc.bearer");
  return {
    apiUrl: text(document.apiUrl, "apiUrl").replace(/\/+$/, ""),
    oidc: {
      issuer: text(oidc.issuer, "oidc.issuer"),
      clientId: text(oidc.clientId, "oidc.clientId"),
      scope: optional(oidc.scope, "oidc.scope") ?? "openid email profile",
      discoveryUrl: optional(oidc.discoveryUrl, "oidc.discoveryUrl"),
      authorizationEndpoint: optional(oidc.authorizationEndpoint, "oidc.authorizationEndpoint"),
      tokenEndpoint: optional(oidc.tokenEndpoint, "oidc.tokenEndpoint"),
      endSessionEndpoint: optional(oidc.endSessionEndpoint, "oidc.endSessionEndpoint"),
      logout,
      bearer,
    },
  };
}

export async function loadConfig(base: string): Promise<ConsoleConfig> {
  const response = await fetch(`${base}config.json`, { cache: "no-store" });
  if (!response.ok) throw new ConfigError(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
