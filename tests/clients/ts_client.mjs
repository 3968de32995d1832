// The official TypeScript MCP SDK (@modelcontextprotocol/sdk) against the endpoint.
// usage: node ts_client.mjs URL TOKEN — prints one JSON object per step.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
const report = (fields) => console.log(JSON.stringify(fields));
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "knotie-tests", version: "1.0.0" });
try {
  await client.connect(transport);
  report({ step: "connected", protocol: transport.protocolVersion, server: client.getServerVersion().name });
  const { tools } = await client.listTools();
  report({ step: "tools", names: tools.map((t) => t.name) });
  for (const [name, args] of [
    ["get_account", {}],
    ["get_credit_balances", {}],
    ["list_recent_calls", { limit: 3 }],
  ]) {
    const result = await client.callTool({ name, arguments: args });
    report({ step: "call", tool: name, is_error: Boolean(result.isError), structured: result.structuredContent });
  }
} finally {
  await client.close();
}
