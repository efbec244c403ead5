import assert from "node:assert/strict";
import { test } from "node:test";
import { bearerParams, describeChallenge, stepUpChallenge } from "../src/auth/challenge";

const HEADER =
  'Bearer error="insufficient_user_authentication", error_description="this action (license.revoke) needs a stronger authentication (mfa)", acr_values="mfa", max_age=900';

test("the RFC 9470 header gives acr_values and max_age", () => {
  assert.deepEqual(stepUpChallenge(401, HEADER, {}), {
    acrValues: ["mfa"],
    maxAge: 900,
    description: "this action (license.revoke) needs a stronger authentication (mfa)",
  });
});

test("several acr values, quoted escapes, other schemes first", () => {
  const params = bearerParams('Basic realm="x", Bearer error="insufficient_user_authentication", acr_values="phr mfa", error_description="say \\"hi\\""');
  assert.equal(params?.get("acr_values"), "phr mfa");
  assert.equal(params?.get("error_description"), 'say "hi"');
});

test("without the header (not exposed by CORS) the problem body answers", () => {
  const body = { code: "STEP_UP_REQUIRED", acrValues: ["mfa"], maxAge: 300, detail: "needs mfa" };
  assert.deepEqual(stepUpChallenge(401, null, body), { acrValues: ["mfa"], maxAge: 300, description: "needs mfa" });
});

test("other 401s and other statuses are no challenge", () => {
  assert.equal(stepUpChallenge(401, 'Bearer error="invalid_token"', { code: "UNAUTHENTICATED" }), null);
  assert.equal(stepUpChallenge(403, HEADER, { code: "STEP_UP_REQUIRED" }), null);
  assert.equal(stepUpChallenge(401, null, null), null);
});

test("a malformed max_age is no age", () => {
  assert.equal(stepUpChallenge(401, 'Bearer error="insufficient_user_authentication", max_age=soon', {})?.maxAge, null);
});

test("the prompt says what is asked, in words", () => {
  assert.equal(describeChallenge({ acrValues: ["mfa"], maxAge: 900, description: "" }), "multi-factor authentication, within the last 15 minutes");
  assert.equal(describeChallenge({ acrValues: [], maxAge: 45, description: "" }), "a fresh sign-in, within the last 45 seconds");
});
