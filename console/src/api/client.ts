/** The API client: typed from the committed openapi.json (a drifting API breaks this
 * build, not its users), with the session's bearer token and problem answers turned
 * into {@link ApiError}s. */

import createClient, { type Client } from "openapi-fetch";
import { type StepUpChallenge, stepUpChallenge } from "../auth/challenge";
import { session, sessionEnded } from "../auth/session";
import type { components, paths } from "./schema.gen";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

let client: Client<paths> | null = null;

export function configureApi(baseUrl: string): void {
  client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      // Every route the console calls wants a bearer: a call that outlives its session
      // (a screen still loading when the person signs out) is never sent.
      const bearer = session()?.bearer;
      if (!bearer) throw new SignedOut();
      request.headers.set("Authorization", `Bearer ${bearer}`);
      return request;
    },
    onResponse({ request, response }) {
      // A refused token (not a step-up challenge): the session is over.
      const challenge = response.headers.get("www-authenticate") ?? "";
      if (response.status === 401 && request.headers.has("Authorization") && /invalid_token/.test(challenge)) {
        sessionEnded();
      }
      return response;
    },
  });
}

export function api(): Client<paths> {
  if (client === null) throw new Error("the API client is not configured");
  return client;
}

/** A refused request: its problem (RFC 9457), status, and step-up challenge if any. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Partial<Problem>;
  readonly challenge: StepUpChallenge | null;
  readonly requestId: string | null;

  constructor(response: Response, body: unknown) {
    const problem = (typeof body === "object" && body !== null ? body : {}) as Partial<Problem>;
    super(problem.detail ?? problem.title ?? `HTTP ${response.status}`);
    this.status = response.status;
    this.problem = problem;
    this.challenge = stepUpChallenge(response.status, response.headers.get("www-authenticate"), body);
    this.requestId = problem.requestId ?? response.headers.get("apigw-requestid");
  }

  get code(): string {
    return this.problem.code ?? `HTTP_${this.status}`;
  }

  /** Per-field messages of a 422, by the field's name as sent (``body.maxUsers`` ->
   * ``maxUsers``). */
  fieldErrors(): Map<string, string> {
    const fields = new Map<string, string>();
    for (const error of this.problem.errors ?? []) {
      const name = error.path.split(".").at(-1) ?? error.path;
      if (!fields.has(name)) fields.set(name, error.message);
    }
    return fields;
  }
}

/** A call made with no session: refused before it leaves the browser. */
export class SignedOut extends Error {
  constructor() {
    super("you are signed out");
  }
}

/** A network failure (no answer at all), as an error the UI can show. */
export class NetworkError extends Error {}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, else an {@link ApiError}. */
export async function unwrap<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (error) {
    if ((error instanceof DOMException && error.name === "AbortError") || error instanceof SignedOut) throw error;
    throw new NetworkError(`the API did not answer (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!answer.response.ok || answer.data === undefined) {
    if (answer.response.ok && answer.response.status === 204) return undefined as T;
    throw new ApiError(answer.response, answer.error);
  }
  return answer.data;
}

/** Run `action`; when it is refused with a step-up challenge, let `stepUp` sign the
 * person in again as the challenge asks, then run it once more (the second answer is
 * final, whatever it is). */
export async function withStepUp<T>(
  action: () => Promise<T>,
  stepUp: (challenge: StepUpChallenge) => Promise<void>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || error.challenge === null) throw error;
    await stepUp(error.challenge);
    return action();
  }
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
