import assert from "node:assert/strict";
import { test } from "node:test";
import { base64url, claimsOf } from "../src/auth/pkce";
import { AuthError, sessionFrom } from "../src/auth/session";

const NOW = 1_800_000_000;
const SETTINGS = { issuer: "https://issuer.test/pool", clientId: "console", bearer: "access" as const };

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));
  return `${part({ alg: "RS256" })}.${part(claims)}.sig`;
}

const ID = { iss: SETTINGS.issuer, aud: "console", sub: "u1", nonce: "n1", exp: NOW + 3600, auth_time: NOW - 10, email: "ada@example.com" };

test("claims of a JWT, base64url with multi-byte text", () => {
  assert.equal(claimsOf(jwt({ name: "Zoë ✓" })).name, "Zoë ✓");
});

test("a platform administrator, a tenant administrator, a customer", () => {
  const admin = sessionFrom(jwt(ID), jwt({ "cognito:groups": ["license-admins"], exp: NOW + 3600 }), { nonce: "n1", maxAge: null }, SETTINGS, NOW);
  assert.equal(admin.role, "platform-admin");
  assert.equal(admin.email, "ada@example.com");
  const tenant = sessionFrom(jwt(ID), jwt({ "cognito:groups": ["tenant-admins"], tenant: "ten_1" }), { nonce: "n1", maxAge: null }, SETTINGS, NOW);
  assert.deepEqual([tenant.role, tenant.tenant], ["tenant-admin", "ten_1"]);
  const user = sessionFrom(jwt(ID), jwt({ tenant: "ten_1" }), { nonce: "n1", maxAge: null }, SETTINGS, NOW);
  assert.deepEqual([user.role, user.tenant], ["user", null]);
});

test("the ID token can be the bearer (Cognito: custom:tenant lives there)", () => {
  const id = jwt({ ...ID, "cognito:groups": ["tenant-admins"], "custom:tenant": "ten_2" });
  const session = sessionFrom(id, jwt({}), { nonce: "n1", maxAge: null }, { ...SETTINGS, bearer: "id" }, NOW);
  assert.equal(session.bearer, id);
  assert.equal(session.tenant, "ten_2");
});

test("another issuer, audience, nonce, an expired token are refused", () => {
  const refused = (claims: Record<string, unknown>, nonce = "n1") =>
    assert.throws(() => sessionFrom(jwt({ ...ID, ...claims }), jwt({}), { nonce, maxAge: null }, SETTINGS, NOW), AuthError);
  refused({ iss: "https://evil.test" });
  refused({ aud: "other" });
  refused({}, "n2");
  refused({ exp: NOW - 3600 });
  refused({ sub: "" });
});

test("a step-up sign-in must be fresh (max_age)", () => {
  assert.throws(() => sessionFrom(jwt({ ...ID, auth_time: NOW - 1000 }), jwt({}), { nonce: "n1", maxAge: 900 }, SETTINGS, NOW), /sign you in again/);
  assert.ok(sessionFrom(jwt(ID), jwt({}), { nonce: "n1", maxAge: 900 }, SETTINGS, NOW));
});
