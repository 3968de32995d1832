// The official TypeScript MCP SDK's OAuth client (an OAuthClientProvider given to its
// Streamable HTTP transport) against the endpoint: discovery from the 401, dynamic
// client registration, PKCE, consent, tokens, a refresh.
// usage: node ts_oauth.mjs URL
//
// The consent a person gives on the consent page is given here through the page's own
// API (POST /oauth/consent, as the local server's dev identity). Prints one JSON object
// per step, as python_oauth.py does. After a refresh it prints {"step": "waiting"} and
// waits for a line on stdin (the test ends the grant meanwhile), then calls again and
// reports what happened: the call refused, and the SDK asking a person to authorize again.
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [url] = process.argv.slice(2);
const base = new URL(url).origin;
const report = (fields) => console.log(JSON.stringify(fields));

let authorizations = 0;
let code;
const saved = { client: undefined, tokens: undefined, verifier: undefined };
const provider = {
  get redirectUrl() {
    return "http://127.0.0.1:33419/callback";
  },
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK test app",
      redirect_uris: ["http://127.0.0.1:33419/callback"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => saved.client,
  saveClientInformation: (info) => { saved.client = info; },
  tokens: () => saved.tokens,
  saveTokens: (tokens) => { saved.tokens = tokens; },
  saveCodeVerifier: (verifier) => { saved.verifier = verifier; },
  codeVerifier: () => saved.verifier,
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "tokens") saved.tokens = undefined;
    if (scope === "all" || scope === "client") saved.client = undefined;
    if (scope === "all" || scope === "verifier") saved.verifier = undefined;
  },
  async redirectToAuthorization(authorizationUrl) {
    authorizations += 1;
    report({
      step: "authorize",
      endpoint: `${authorizationUrl.origin}${authorizationUrl.pathname}`,
      params: [...new Set(authorizationUrl.searchParams.keys())].sort(),
    });
    if (authorizations > 1) throw new Error("a person is asked to authorize again");
    const query = authorizationUrl.search.slice(1);
    const review = await fetch(`${base}/oauth/consent?${query}`);
    report({ step: "consent", status: review.status, body: await review.json() });
    const decided = await fetch(`${base}/oauth/consent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request: query, allow: true }),
    });
    const to = new URL((await decided.json()).redirect_to);
    report({ step: "redirected", to: `${to.origin}${to.pathname}`, params: [...to.searchParams.keys()].sort() });
    code = to.searchParams.get("code");
  },
};

async function connect() {
  const client = new Client({ name: "knotie-oauth-tests", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  return client;
}

let client;
try {
  try {
    client = await connect();
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !code) throw e;
    // The person allowed it: the app finishes with the code, then connects again.
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    await transport.finishAuth(code);
    client = await connect();
  }
  const first = saved.tokens;
  report({
    step: "connected",
    server: client.getServerVersion().name,
    client_id: saved.client.client_id,
    token_type: first.token_type,
    expires_in: first.expires_in,
    scope: first.scope,
    access_prefix: first.access_token.slice(0, 5),
    has_refresh: Boolean(first.refresh_token),
  });
  const { tools } = await client.listTools();
  report({ step: "tools", names: tools.map((t) => t.name) });
  let result = await client.callTool({ name: "get_account", arguments: {} });
  report({ step: "call", is_error: Boolean(result.isError), structured: result.structuredContent });

  // The access token no longer works (as after its hour): the SDK meets the 401 by
  // renewing it with its refresh token.
  saved.tokens = { ...first, access_token: "kmcp_000000000000000000000000000000000000000001W9ct" };
  result = await client.callTool({ name: "get_account", arguments: {} });
  const second = saved.tokens;
  report({
    step: "refreshed",
    is_error: Boolean(result.isError),
    access_changed: second.access_token !== first.access_token,
    refresh_changed: second.refresh_token !== first.refresh_token,
    spent_refresh: first.refresh_token,
  });

  report({ step: "waiting" });
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once("line", resolve));
  lines.close();
  try {
    result = await client.callTool({ name: "get_account", arguments: {} });
    report({ step: "after_revoke", refused: false, is_error: Boolean(result.isError) });
  } catch (e) {
    report({ step: "after_revoke", refused: true, authorizations, error: `${e.name}: ${e.message}` });
  }
} catch (e) {
  report({ step: "failed", error: `${e.name}: ${e.message}`, stack: e.stack });
} finally {
  await client?.close();
}
