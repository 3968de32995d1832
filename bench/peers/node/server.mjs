// The Node.js peer of the MCP endpoint's hot path, written for speed the way a good Node
// engineer would: the official TypeScript SDK's stateless Streamable HTTP transport with
// JSON responses, one DynamoDB client and one JSON Schema validator for the process, a
// keep-alive agent, and the same token check as the Rust server — format and CRC32
// checksum, HMAC-SHA256 with the same pepper, one strongly consistent GetItem, revoked
// and expiry checked — and the same get_account tool reading the same item.
//
// The pepper: with PEPPER_SECRET_ID, read from Secrets Manager (at SECRETS_ENDPOINT)
// before listening, as the deployed Rust function reads it during init; else PEPPER.
//
// env: PORT, DYNAMODB_ENDPOINT, TABLE_NAME, PEPPER_SECRET_ID and SECRETS_ENDPOINT, PEPPER
import http from "node:http";
import { createHmac } from "node:crypto";
import { crc32 } from "node:zlib";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv-provider.js";

const { PORT = "3100", DYNAMODB_ENDPOINT, TABLE_NAME, PEPPER_SECRET_ID, SECRETS_ENDPOINT } = process.env;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const AWS = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };
const dynamodb = new DynamoDBClient({
  ...AWS,
  endpoint: DYNAMODB_ENDPOINT,
  requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) }),
});
const PEPPER = PEPPER_SECRET_ID ? await readPepper() : process.env.PEPPER;

async function readPepper() {
  // Loaded only by a peer that reads its pepper this way.
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const secrets = new SecretsManagerClient({ ...AWS, endpoint: SECRETS_ENDPOINT });
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: PEPPER_SECRET_ID }));
  return SecretString;
}
// The SDK's default builds an Ajv instance per server, i.e. per request when stateless.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

function checksum(body) {
  let n = crc32(body) >>> 0;
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** The token's account, or why it is refused. */
async function authenticate(header) {
  const token = (header ?? "").trim().replace(/^bearer\s+/i, "").trim();
  if (!/^kmcp_[0-9A-Za-z]{46}$/.test(token)) return { error: "malformed token" };
  if (checksum(token.slice(0, 45)) !== token.slice(45)) return { error: "mistyped token" };
  const hash = createHmac("sha256", PEPPER).update(token).digest("hex");
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: TABLE_NAME,
      Key: { PK: { S: `TOKENHASH#${hash}` }, SK: { S: "TOKENHASH" } },
      ConsistentRead: true,
    }),
  );
  if (!Item) return { error: "unknown token" };
  if (Item.revoked?.BOOL) return { error: "this token was revoked" };
  if (Item.expires_at && Number(Item.expires_at.N) <= Date.now() / 1000) return { error: "this token expired" };
  return { account: Item.account.S, tokenId: Item.token_id.S };
}

function serverFor(caller) {
  const server = new McpServer({ name: "knotie-node-peer", version: "1.0.0" }, { jsonSchemaValidator });
  server.registerTool(
    "get_account",
    { description: "The account this token acts for.", annotations: { readOnlyHint: true } },
    async () => {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: TABLE_NAME,
          Key: { PK: { S: `ACCT#${caller.account}` }, SK: { S: "PROFILE" } },
          ConsistentRead: true,
        }),
      );
      const account = {
        account_id: caller.account,
        name: Item.name.S,
        plan: Item.plan.S,
        api_access: Item.api_access?.BOOL ?? false,
        credit_pool: Number(Item.credit_pool?.N ?? 0),
      };
      return { content: [{ type: "text", text: JSON.stringify(account) }], structuredContent: account };
    },
  );
  return server;
}

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

http
  .createServer(async (req, res) => {
    if (req.method !== "POST") return reply(res, 405, { error: "POST only" }, { allow: "POST" });
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const caller = await authenticate(req.headers.authorization);
    if (caller.error) {
      return reply(res, 401, { jsonrpc: "2.0", id: message.id ?? null, error: { code: -32001, message: caller.error } }, { "www-authenticate": "Bearer" });
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = serverFor(caller);
    res.on("close", () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  })
  .listen(Number(PORT), "127.0.0.1");
