// Settings → MCP Tokens in headless Chromium, against make dev's server on DynamoDB Local,
// the way a person uses it: generate, copy, connect, revoke. `make test` sets the
// environment (KNOTIE_LOCAL_BIN, KNOTIE_TEST_DYNAMODB, KNOTIE_WEB_DIR).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const OUTPUT = new URL("../test-output/", import.meta.url).pathname;
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set: run the tests with make test`);
  return process.env[name];
};

let server;
let base;
let browser;
let keyServer;
// Stands in for GitHub's secret scanning: a key pair, its keys document on loopback.
const github = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const GITHUB_KEY_ID = "web-test-key";

before(async () => {
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  base = `http://127.0.0.1:${port}`;
  const pem = github.publicKey.export({ type: "spki", format: "pem" });
  const keys = JSON.stringify({ public_keys: [{ key_identifier: GITHUB_KEY_ID, key: pem, is_current: true }] });
  keyServer = http.createServer((_req, res) => res.end(keys));
  await new Promise((resolve) => keyServer.listen(0, "127.0.0.1", resolve));
  server = spawn(env("KNOTIE_LOCAL_BIN"), [], {
    env: {
      ...process.env,
      PORT: String(port),
      DYNAMODB_ENDPOINT: env("KNOTIE_TEST_DYNAMODB"),
      TABLE_NAME: "knotie-web-test",
      WEB_DIR: env("KNOTIE_WEB_DIR"),
      SECRET_SCANNING_KEYS_URL: `http://127.0.0.1:${keyServer.address().port}/keys`,
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/`)).ok) break;
    } catch {}
    if (i > 600) throw new Error("the local server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  mkdirSync(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
  keyServer?.close();
});

/** Reports tokens as found in public, signed as GitHub signs its reports. */
async function reportLeak(tokens, url) {
  const body = JSON.stringify(tokens.map((token) => ({ token, type: "knotie_mcp_token", url, source: "content" })));
  const response = await fetch(`${base}/secret-scanning/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": GITHUB_KEY_ID,
      "github-public-key-signature": sign("sha256", Buffer.from(body), github.privateKey).toString("base64"),
    },
    body,
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

const unique = (prefix) => `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function open(account, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  await page.goto(`${base}/?account=${account}`);
  await page.getByRole("heading", { name: "MCP Tokens" }).waitFor();
  await page.locator(".kmt-table, .kmt-empty, .kmt-banner:not([hidden])").first().waitFor();
  return page;
}

/** Through the dialog, as a person does; returns the token the page shows. */
async function generate(page, name, { readOnly = false } = {}) {
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  await dialog.getByLabel("Name").fill(name);
  if (readOnly) await dialog.getByLabel(/Read-only/).check();
  await dialog.getByRole("button", { name: "Create" }).click();
  const token = page.getByLabel("Your token");
  await token.waitFor();
  return token.inputValue();
}

async function callMcp(token) {
  const response = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_account", arguments: {} } }),
  });
  return response.status;
}

async function createViaApi(account, count) {
  for (let i = 0; i < count; i++) {
    const r = await fetch(`${base}/mcp-tokens`, { method: "POST", headers: { "x-dev-account": account }, body: JSON.stringify({ name: `api token ${i}` }) });
    assert.equal(r.status, 201);
  }
}

test("generate through the dialog, connect with the token, revoke it with confirmation, and it stops working", async () => {
  const page = await open("acct_demo");
  const name = unique("Cursor Development");
  const token = await generate(page, name);
  assert.match(token, /^kmcp_[0-9A-Za-z]{46}$/);
  await page.getByText("Copy this token now. It won't be shown again.").waitFor();
  assert.equal(await callMcp(token), 200, "the token works right away");

  await page.getByRole("button", { name: "Done" }).click();
  // The element itself, not its role: a closed dialog leaves the accessibility tree
  // before its close handler removes it.
  await page.locator("dialog").waitFor({ state: "detached" });
  assert.ok(!(await page.content()).includes(token), "the token is gone from the DOM");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href);
  assert.ok(!stored.includes(token), "nor in storage or the URL");

  const row = page.locator("tr", { hasText: name });
  await row.getByText("active").waitFor();
  assert.match(await row.innerText(), /never/, "last used: never");
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole("dialog", { name: `Revoke “${name}”?` });
  await confirm.getByRole("button", { name: "Confirm" }).click();
  await row.getByText("revoked").waitFor();
  assert.equal(await row.getByRole("button", { name: /Revoke/ }).count(), 0);
  assert.equal(await callMcp(token), 401, "a revoked token is refused on the next call");
});

test("each client tab's Copy puts exactly the shown configuration on the clipboard", async () => {
  const page = await open("acct_demo");
  const token = await generate(page, unique("Clipboard"));
  await page.getByRole("button", { name: "Copy token" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  for (const label of ["Cursor", "Windsurf", "Claude Desktop", "VS Code", "Claude Code"]) {
    await page.getByRole("tab", { name: label }).click();
    const panel = page.getByRole("tabpanel", { name: label });
    const shown = await panel.locator("pre").innerText();
    assert.ok(shown.includes(token) && shown.includes(`${base}/mcp`), label);
    await panel.getByRole("button", { name: `Copy ${label} configuration` }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown, label);
  }
  await page.keyboard.press("Escape");
  await page.locator("dialog").waitFor({ state: "detached" });
  assert.ok(!(await page.content()).includes(token), "Escape forgets the token too");
});

test("the name is validated as the API validates it, and nothing is created", async () => {
  const account = unique("acct_web");
  const page = await open(account);
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByText("Give the token a name").waitFor();
  await dialog.getByLabel("Name").fill("x".repeat(65));
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByText("at most 64 characters").waitFor();
  assert.equal(await dialog.getByLabel("Name").getAttribute("aria-invalid"), "true");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  const listed = await (await fetch(`${base}/mcp-tokens`, { headers: { "x-dev-account": account } })).json();
  assert.equal(listed.tokens.length, 0);
});

test("error states a person can act on: API access, the limit, the API unreachable, an expired session", async () => {
  const noapi = await open("acct_noapi");
  await generate(noapi, unique("Blocked"));
  await noapi.getByRole("dialog").getByText("API access is not enabled for this account").waitFor();
  await noapi.getByRole("button", { name: "Done" }).click();
  await noapi.locator("dialog").waitFor({ state: "detached" });
  await noapi.locator("section .kmt-banner.kmt-warning", { hasText: "refused until API access is enabled" }).waitFor();

  const full = unique("acct_full");
  await createViaApi(full, 50);
  const page = await open(full);
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  await dialog.getByLabel("Name").fill("One too many");
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByText("already has 50 active tokens").waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // The API's requests only: the page's own files are named mcp-tokens.js and .css.
  const api = (url) => url.pathname.startsWith("/mcp-tokens") && !/\.(js|css)$/.test(url.pathname);
  const down = await open("acct_demo");
  await down.route(api, (route) => route.abort());
  await down.reload();
  await down.getByText("Knotie can't be reached right now").waitFor();
  await down.unroute(api);
  await down.getByRole("button", { name: "Retry" }).click();
  await down.locator(".kmt-table").waitFor();

  const expired = await open("acct_demo");
  await expired.route(api, (route) =>
    route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ error: { code: "unauthenticated", message: "sign in again" } }) }),
  );
  await expired.reload();
  await expired.getByText("Your session has expired").waitFor();
});

test("an empty list says what a token is for; long lists page past the first 20, newest first", async () => {
  const account = unique("acct_pages");
  const page = await open(account);
  await page.getByText("No tokens yet.").waitFor();
  await page.getByText("A token lets an AI assistant").waitFor();
  await createViaApi(account, 25);
  await page.reload();
  await page.locator(".kmt-table").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 20);
  assert.match(await page.locator("tbody tr").first().innerText(), /api token 24/, "newest first");
  await page.getByRole("button", { name: "Show more" }).click();
  await page.locator("tbody tr").nth(24).waitFor();
  assert.equal(await page.locator("tbody tr").count(), 25);
  assert.ok(await page.getByRole("button", { name: "Show more" }).isHidden());
});

test("no serious or critical accessibility violations, dialog open or closed; screenshots at 1280 and 390 px", async () => {
  for (const width of [1280, 390]) {
    const page = await open("acct_demo", width);
    await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
    const scan = async (when) => {
      const { violations } = await page.evaluate(() => window.axe.run());
      const bad = violations.filter((v) => ["serious", "critical"].includes(v.impact));
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `${when} at ${width}px`);
    };
    await scan("dialog closed");
    await page.screenshot({ path: `${OUTPUT}settings-${width}.png`, fullPage: true });
    await page.getByRole("button", { name: "Generate Token" }).click();
    const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
    await scan("create dialog open");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await generate(page, unique("Screenshot"));
    await scan("token dialog open");
    await page.screenshot({ path: `${OUTPUT}token-dialog-${width}.png` });
    await page.getByRole("button", { name: "Done" }).click();
    for (const file of [`settings-${width}.png`, `token-dialog-${width}.png`]) {
      assert.ok(statSync(`${OUTPUT}${file}`).size > 10_000, file);
    }
  }
});

test("a token found in public says so in the list, and its history tells what happened", async () => {
  const account = unique("acct_leak");
  for (const width of [1280, 390]) {
    const page = await open(account, width);
    const name = unique("Leaked");
    const token = await generate(page, name);
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
    const url = "https://github.com/octo/app/blob/main/.env";
    const [label] = await reportLeak([token], url);
    assert.equal(label.label, "true_positive");
    await page.reload();
    const row = page.locator("tr", { hasText: name });
    await row.getByText(`Revoked automatically: found in public at ${url}`).waitFor();
    assert.equal(await callMcp(token), 401);

    await row.getByRole("button", { name: `History of ${name}` }).click();
    const history = page.getByRole("dialog", { name: `History of “${name}”` });
    await history.getByText(`Revoked automatically: found in public at ${url} (content)`).waitFor();
    await history.getByText("Created by user_dev (Full access)").waitFor();
    const items = await history.locator("li").allInnerTexts();
    assert.match(items[0], /Revoked automatically/, "newest first");
    const overflow = await page.evaluate(() => [...document.querySelectorAll("dialog")].some((d) => d.getBoundingClientRect().right > window.innerWidth));
    assert.ok(!overflow, `the history dialog fits ${width}px`);
    await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
    const { violations } = await page.evaluate(() => window.axe.run());
    const bad = violations.filter((v) => ["serious", "critical"].includes(v.impact));
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `history dialog at ${width}px`);
    await page.screenshot({ path: `${OUTPUT}history-${width}.png` });
    await history.getByRole("button", { name: "Close" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
  }
});
