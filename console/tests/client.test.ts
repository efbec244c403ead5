import assert from "node:assert/strict";
import { test } from "node:test";
import { api, configureApi, SignedOut, unwrap } from "../src/api/client";

test("a call with no session (a screen still loading after sign-out) is never sent", async () => {
  const sent: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL) => {
    sent.push(input instanceof Request ? input.url : String(input));
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  };
  try {
    configureApi("https://api.test");
    await assert.rejects(unwrap(api().GET("/products", { params: { query: {} } })), SignedOut);
    assert.deepEqual(sent, []);
  } finally {
    globalThis.fetch = realFetch;
  }
});
