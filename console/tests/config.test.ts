import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig } from "../src/config";

test("config.json: defaults, and the API's URL without its trailing slash", () => {
  const config = parseConfig({ apiUrl: "https://api.example.com/", oidc: { issuer: "https://id.example.com", clientId: "c1" } });
  assert.equal(config.apiUrl, "https://api.example.com");
  assert.deepEqual(config.oidc, {
    issuer: "https://id.example.com",
    clientId: "c1",
    scope: "openid email profile",
    discoveryUrl: undefined,
    authorizationEndpoint: undefined,
    tokenEndpoint: undefined,
    endSessionEndpoint: undefined,
    logout: "oidc",
    bearer: "access",
  });
});

test("config.json: what is missing or unknown is refused", () => {
  assert.throws(() => parseConfig(null), ConfigError);
  assert.throws(() => parseConfig({ oidc: { issuer: "i", clientId: "c" } }), /apiUrl/);
  assert.throws(() => parseConfig({ apiUrl: "a", oidc: { issuer: "i" } }), /clientId/);
  assert.throws(() => parseConfig({ apiUrl: "a", oidc: { issuer: "i", clientId: "c", bearer: "cookie" } }), /bearer/);
  assert.throws(() => parseConfig({ apiUrl: "a", oidc: { issuer: "i", clientId: "c", tokenEndpoint: 3 } }), /tokenEndpoint/);
});
