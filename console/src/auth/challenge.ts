/** The RFC 9470 step-up challenge, from a 401's `WWW-Authenticate` header or, when a
 * cross-origin response does not expose the header, from its problem body. */

export interface StepUpChallenge {
  acrValues: string[];
  maxAge: number | null;
  description: string;
}

/** Auth-params of the first `Bearer` challenge: `name=token` or `name="quoted"`. */
export function bearerParams(header: string): Map<string, string> | null {
  const start = header.search(/(^|,)\s*Bearer(\s|$)/i);
  if (start < 0) return null;
  const rest = header.slice(start).replace(/^,?\s*Bearer\s*/i, "");
  const params = new Map<string, string>();
  const param = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  let match: RegExpExecArray | null;
  while ((match = param.exec(rest)) !== null && match[0] !== "") {
    const name = match[1]!.toLowerCase();
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3]!;
    if (!params.has(name)) params.set(name, value);
    if (param.lastIndex >= rest.length) break;
  }
  return params;
}

function maxAgeOf(value: unknown): number | null {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isInteger(number) && number >= 0 ? number : null;
}

/** The challenge of a response, or null when it is not one. */
export function stepUpChallenge(status: number, header: string | null, body: unknown): StepUpChallenge | null {
  if (status !== 401) return null;
  const params = header ? bearerParams(header) : null;
  if (params?.get("error") === "insufficient_user_authentication") {
    return {
      acrValues: (params.get("acr_values") ?? "").split(" ").filter(Boolean),
      maxAge: maxAgeOf(params.get("max_age")),
      description: params.get("error_description") ?? "",
    };
  }
  const problem = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (problem.code !== "STEP_UP_REQUIRED") return null;
  const acr = Array.isArray(problem.acrValues) ? problem.acrValues : [];
  return {
    acrValues: acr.filter((value): value is string => typeof value === "string"),
    maxAge: maxAgeOf(problem.maxAge),
    description: typeof problem.detail === "string" ? problem.detail : "",
  };
}

/** "MFA within the last 15 minutes", for the prompt. */
export function describeChallenge(challenge: StepUpChallenge): string {
  const names: Record<string, string> = { mfa: "multi-factor authentication", phr: "a phishing-resistant sign-in (passkey or security key)", phrh: "a hardware-bound passkey" };
  const how = challenge.acrValues.map((value) => names[value] ?? value).join(" or ") || "a fresh sign-in";
  if (challenge.maxAge === null) return how;
  const minutes = challenge.maxAge / 60;
  const within = Number.isInteger(minutes) && minutes >= 1 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : `${challenge.maxAge} seconds`;
  return `${how}, within the last ${within}`;
}
