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
// GitHub names its keys by their SHA-256, 64 hex digits.
const GITHUB_KEY_ID = "0e1d2c3b4a5968778695a4b3c2d1e0f00e1d2c3b4a5968778695a4b3c2d1e0f0";

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

// Who the local server thinks is signed in (default: user_dev, an owner).
const MEMBER = { "x-dev-role": "member", "x-dev-user": "user_b" };
const ADMIN = { "x-dev-role": "admin", "x-dev-user": "user_admin" };
const ALL_SCOPES = ["customers:read", "customers:write", "agents:read", "agents:write", "credits:read", "credits:write", "analytics:read"];
const OPEN_POLICY = { max_lifetime_days: null, allowed_scopes: ALL_SCOPES, member_scopes: ALL_SCOPES, members_may_create: true, revoke_unused_after_days: null };

/** The management API as `as` (request headers) of `account`: status and JSON body. */
async function callApi(method, path, { account, as = {}, body } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "x-dev-account": account, "content-type": "application/json", ...as },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function setPolicy(account, policy) {
  const { status, json } = await callApi("PUT", "/mcp-tokens/policy", { account, body: policy });
  assert.equal(status, 200, JSON.stringify(json));
}

/** Every token of the account the user sees, active or not. */
async function listed(account, as = {}) {
  const { status, json } = await callApi("GET", "/mcp-tokens?status=all&limit=100", { account, as });
  assert.equal(status, 200, JSON.stringify(json));
  return json.tokens;
}

async function assertAccessible(page, when) {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const { violations } = await page.evaluate(() => window.axe.run());
  const bad = violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], when);
}

/** The page at `width` px, signed in as `as` (request headers; default the owner user_dev). */
async function open(account, width = 1280, as = {}) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, extraHTTPHeaders: as });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  await page.goto(`${base}/?account=${account}`);
  await page.getByRole("heading", { name: "MCP Tokens" }).waitFor();
  await page.locator(".kmt-table, .kmt-empty, .kmt-banner:not([hidden])").first().waitFor();
  return page;
}

/** Through the dialog, as a person does; returns the token the page shows. */
async function generate(page, name, { ips = "" } = {}) {
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  await dialog.getByLabel("Name").fill(name);
  if (ips) await dialog.getByLabel("Allowed IP addresses (optional)").fill(ips);
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

async function createViaApi(account, count, as = {}) {
  for (let i = 0; i < count; i++) {
    const { status, json } = await callApi("POST", "/mcp-tokens", { account, as, body: { name: `api token ${i}` } });
    assert.equal(status, 201, JSON.stringify(json));
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
  assert.equal(await row.getByRole("button", { name: `Revoke ${name}` }).count(), 0, "no Revoke for a revoked token");
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
  // The connectors that sign in by URL (MCP authorization is on locally): the URL, never
  // the token, and what to do with it.
  for (const label of ["Claude connector", "ChatGPT connector"]) {
    await page.getByRole("tab", { name: label }).click();
    const panel = page.getByRole("tabpanel", { name: label });
    assert.equal(await panel.locator("pre").innerText(), `${base}/mcp`, label);
    assert.match(await panel.innerText(), /No token needed/, label);
    assert.ok(!(await panel.innerText()).includes(token), label);
    await panel.getByRole("button", { name: `Copy ${label} URL` }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${base}/mcp`, label);
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
    const scan = (when) => assertAccessible(page, `${when} at ${width}px`);
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
    // Revoked: among the inactive rows, behind the toggle.
    await page.getByRole("button", { name: /^Show revoked and expired/ }).click();
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
    await assertAccessible(page, `history dialog at ${width}px`);
    await page.screenshot({ path: `${OUTPUT}history-${width}.png` });
    await history.getByRole("button", { name: "Close" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
  }
});

// A policy lives on the account's profile, which only the seeded accounts have (an account
// the local server has never seen answers GET with the open policy and PUT with 404). The
// tests that set one use acct_other, one at a time, and put the open policy back.
const GOVERNED = "acct_other";
const governed = async (t, policy) => {
  t.after(() => setPolicy(GOVERNED, OPEN_POLICY));
  await setPolicy(GOVERNED, policy);
};

test("a member sees only their own tokens, without a Created by column or the policy form; an owner sees every token and who made it", async () => {
  const account = unique("acct_roles");
  const mine = unique("Member token");
  const theirs = unique("Owner token");
  assert.equal((await callApi("POST", "/mcp-tokens", { account, body: { name: theirs } })).status, 201);
  assert.equal((await callApi("POST", "/mcp-tokens", { account, as: MEMBER, body: { name: mine } })).status, 201);

  for (const width of [1280, 390]) {
    const member = await open(account, width, MEMBER);
    await member.locator("tbody tr").first().waitFor();
    assert.deepEqual(await member.locator("tbody th").allInnerTexts(), [mine], `only the member's own token at ${width}px`);
    assert.equal(await member.getByRole("columnheader", { name: "Created by" }).count(), 0);
    assert.equal(await member.locator('td[data-label="Created by"]').count(), 0);
    assert.equal(await member.getByRole("heading", { name: "Token policy" }).count(), 0);
    assert.equal(await member.getByRole("button", { name: "Save policy" }).count(), 0);
    assert.ok(await member.getByRole("button", { name: "Generate Token" }).isEnabled(), "members may create under the open policy");
    await member.context().close();
  }

  const owner = await open(account);
  await owner.getByRole("columnheader", { name: "Created by" }).waitFor();
  assert.deepEqual(await owner.locator("tbody th").allInnerTexts(), [mine, theirs], "every token, newest first");
  assert.equal(await owner.locator("tr", { hasText: mine }).locator('td[data-label="Created by"] .kmt-maker-name').innerText(), "user_b");
  assert.equal(await owner.locator("tr", { hasText: theirs }).locator('td[data-label="Created by"] .kmt-maker-name').innerText(), "user_dev");
  await owner.getByRole("form", { name: "Token policy" }).waitFor();
});

test("an admin sets the token policy through the form; the API keeps it and its refusals show as text", async (t) => {
  t.after(() => setPolicy(GOVERNED, OPEN_POLICY));
  const page = await open(GOVERNED, 1280, ADMIN);
  const form = page.getByRole("form", { name: "Token policy" });
  const allowed = form.getByRole("group", { name: "Allowed scopes" });
  const members = form.getByRole("group", { name: "Members' tokens may" });
  const days = form.getByLabel("Maximum lifetime in days");
  const save = form.getByRole("button", { name: "Save policy" });
  assert.equal(await days.inputValue(), "", "no maximum yet");
  assert.equal(await form.getByRole("checkbox", { checked: true }).count(), 2 * ALL_SCOPES.length + 1, "every scope for all tokens and members', and members may create");

  await days.fill("400");
  await save.click();
  await form.getByRole("alert").filter({ hasText: "from 1 to 365" }).waitFor();
  await days.fill("2 weeks");
  await save.click();
  await form.getByRole("alert").filter({ hasText: "whole number of days" }).waitFor();
  assert.deepEqual((await callApi("GET", "/mcp-tokens/policy", { account: GOVERNED })).json, OPEN_POLICY, "nothing refused was saved");

  await days.fill("30");
  for (const label of ["Change customers", "Change agents", "Change credits"]) await allowed.getByLabel(label).uncheck();
  await members.getByLabel("Read credits").uncheck();
  await form.getByLabel("Members may create tokens").uncheck();
  const unused = form.getByLabel("Revoke tokens unused for (days)");
  await unused.fill("29");
  await save.click();
  await form.getByRole("alert").filter({ hasText: "from 30 to 365" }).waitFor();
  await unused.fill("90");
  await save.click();
  await form.getByRole("status").filter({ hasText: "Policy saved." }).waitFor();
  assert.equal(await form.getByRole("alert").count(), 0, "the earlier error is gone");
  const { status, json } = await callApi("GET", "/mcp-tokens/policy", { account: GOVERNED, as: MEMBER });
  assert.equal(status, 200);
  assert.deepEqual(
    { ...json, allowed_scopes: [...json.allowed_scopes].sort(), member_scopes: [...json.member_scopes].sort() },
    {
      max_lifetime_days: 30,
      allowed_scopes: ["agents:read", "analytics:read", "credits:read", "customers:read"],
      // What was left checked for members, within what is allowed at all.
      member_scopes: ["agents:read", "analytics:read", "customers:read"],
      members_may_create: false,
      revoke_unused_after_days: 90,
    },
  );

  await page.reload();
  await form.waitFor();
  assert.equal(await days.inputValue(), "30", "the form shows the saved policy");
  assert.ok(!(await allowed.getByLabel("Change agents").isChecked()));
  assert.ok(await allowed.getByLabel("Read agents").isChecked());
  assert.ok(!(await members.getByLabel("Read credits").isChecked()));
  assert.ok(!(await form.getByLabel("Members may create tokens").isChecked()));
  await assertAccessible(page, "the policy form");
});

test("the generate dialog offers only the scopes and lifetimes the policy allows, and shows the API's refusal", async (t) => {
  await governed(t, { max_lifetime_days: 60, allowed_scopes: ["customers:read", "analytics:read"], member_scopes: ["customers:read", "analytics:read"], members_may_create: true, revoke_unused_after_days: null });
  const page = await open(GOVERNED);
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  await dialog.getByRole("radio", { name: "Custom" }).check();
  const offered = await dialog.getByRole("checkbox").evaluateAll((boxes) => boxes.map((b) => b.value));
  assert.deepEqual(offered, ["customers:read", "analytics:read"]);
  assert.deepEqual(await dialog.getByLabel("Expires").locator("option").allInnerTexts(), ["30 days", "60 days"], "no “Never”, nothing past 60 days");
  await dialog.getByText("lets a token live at most 60 days").waitFor();

  const name = unique("Within policy");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("Expires").selectOption("60");
  await dialog.getByRole("button", { name: "Create" }).click();
  await page.getByLabel("Your token").waitFor();
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("dialog").waitFor({ state: "detached" });
  const token = (await listed(GOVERNED)).find((t) => t.name === name);
  assert.deepEqual([...token.scopes].sort(), ["analytics:read", "customers:read"]);
  const days = (Date.parse(token.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 59 && days <= 60, `expires in 60 days, not ${days}`);

  // The policy tightens while the dialog is open: the API refuses, and says why.
  await page.getByRole("button", { name: "Generate Token" }).click();
  await dialog.getByLabel("Name").fill(unique("Too long"));
  await dialog.getByLabel("Expires").selectOption("30");
  await setPolicy(GOVERNED, { max_lifetime_days: 10, allowed_scopes: ["customers:read", "analytics:read"], member_scopes: ["customers:read", "analytics:read"], members_may_create: true, revoke_unused_after_days: null });
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByRole("alert").filter({ hasText: "at most 10 days" }).waitFor();
  assert.match(await dialog.getByRole("alert").innerText(), /^The account's token policy/);
});

test("a member's generate dialog offers only the member scopes, at 1280 and 390 px, accessibly", async (t) => {
  await governed(t, { ...OPEN_POLICY, member_scopes: ["customers:read", "analytics:read"] });
  for (const width of [1280, 390]) {
    const member = await open(GOVERNED, width, MEMBER);
    await member.getByRole("button", { name: "Generate Token" }).click();
    const dialog = member.getByRole("dialog", { name: "Create MCP Token" });
    await dialog.getByRole("radio", { name: "Custom" }).check();
    const offered = await dialog.getByRole("checkbox").evaluateAll((boxes) => boxes.map((b) => b.value));
    assert.deepEqual(offered, ["customers:read", "analytics:read"], `${width} px`);
    await assertAccessible(member, `a member's generate dialog at ${width} px`);
    await member.screenshot({ path: `${OUTPUT}member-dialog-${width}.png` });
    const admin = await open(GOVERNED, width, ADMIN);
    await admin.getByRole("form", { name: "Token policy" }).getByRole("group", { name: "Members' tokens may" }).waitFor();
    await assertAccessible(admin, `the policy form at ${width} px`);
  }
});

test("an owner offboards a user from the Created by column: every token of theirs revoked, the page says so", async () => {
  const account = unique("acct_offboard");
  for (const name of ["Laptop", "CI"]) {
    const { status } = await callApi("POST", "/mcp-tokens", { account, as: MEMBER, body: { name: unique(name) } });
    assert.equal(status, 201);
  }
  const kept = unique("Owner's own");
  assert.equal((await callApi("POST", "/mcp-tokens", { account, body: { name: kept } })).status, 201);
  for (const width of [1280, 390]) {
    const page = await open(account, width, ADMIN);
    // Offboarded at 1280 px already: their tokens are among the inactive rows.
    if (width === 390) await page.getByRole("button", { name: "Show revoked and expired (2)" }).click();
    await page.getByRole("button", { name: "Revoke all tokens user_b made" }).first().waitFor();
    await assertAccessible(page, `the list with offboarding at ${width} px`);
    if (width === 390) continue;
    await page.getByRole("button", { name: "Revoke all tokens user_b made" }).first().click();
    const confirm = page.getByRole("dialog", { name: "Revoke every token user_b made?" });
    await confirm.waitFor();
    await assertAccessible(page, "the offboarding dialog");
    await page.screenshot({ path: `${OUTPUT}offboard-dialog-${width}.png` });
    await confirm.getByRole("button", { name: "Revoke all their tokens" }).click();
    await page.getByText("2 tokens of user_b revoked.").waitFor();
    await page.getByRole("button", { name: "Show revoked and expired (2)" }).click();
    await page.getByText("Revoked: user_b left the account").first().waitFor();
  }
  const tokens = await listed(account);
  for (const token of tokens) {
    assert.equal(token.status, token.name === kept ? "active" : "revoked", token.name);
    if (token.name !== kept) assert.equal(token.revoked_reason, "offboarded");
  }
});

test("a token pinned to IP addresses shows them in the list; a bad address is explained; no addresses, no pin", async () => {
  const account = unique("acct_ips");
  const page = await open(account);
  await page.getByRole("button", { name: "Generate Token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
  const pinned = unique("Pinned");
  await dialog.getByLabel("Name").fill(pinned);
  await dialog.getByLabel("Allowed IP addresses (optional)").fill("203.0.113.7, nowhere");
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByRole("alert").filter({ hasText: '"nowhere" is not an IP address' }).waitFor();

  await dialog.getByLabel("Allowed IP addresses (optional)").fill("203.0.113.0/24\n2001:db8::/32,\n 198.51.100.7 ");
  const posted = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/mcp-tokens");
  await dialog.getByRole("button", { name: "Create" }).click();
  assert.deepEqual((await posted).postDataJSON().allowed_ips, ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
  await page.getByLabel("Your token").waitFor();
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("dialog").waitFor({ state: "detached" });
  const shown = await page.locator("tr", { hasText: pinned }).locator(".kmt-ips").innerText();
  assert.match(shown, /203\.0\.113\.0\/24, 2001:db8::\/32, 198\.51\.100\.7$/, "a single address without its /32");

  const anywhere = unique("Anywhere");
  const unpinned = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/mcp-tokens");
  await generate(page, anywhere);
  assert.ok(!("allowed_ips" in (await unpinned).postDataJSON()), "an empty field sends no allowed_ips");
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("tr", { hasText: anywhere }).waitFor();
  assert.equal(await page.locator("tr", { hasText: anywhere }).locator(".kmt-ips").count(), 0);

  const tokens = await listed(account);
  assert.equal(tokens.find((t) => t.name === anywhere).allowed_ips, null);
  const [v4, v6, single] = tokens.find((t) => t.name === pinned).allowed_ips;
  assert.deepEqual([v4, v6], ["203.0.113.0/24", "2001:db8::/32"]);
  assert.match(single, /^198\.51\.100\.7(\/32)?$/);
});

test("a member of an account whose policy lets only owners and admins create tokens sees Generate disabled and why", async (t) => {
  await governed(t, { ...OPEN_POLICY, members_may_create: false, revoke_unused_after_days: null });
  const why = "Your account's token policy lets only owners and admins create tokens";
  const member = await open(GOVERNED, 1280, MEMBER);
  const button = member.getByRole("button", { name: "Generate Token" });
  assert.ok(await button.isDisabled());
  assert.ok(await member.getByText(why).isVisible(), "the reason is on the page");
  assert.match(await button.evaluate((b) => document.getElementById(b.getAttribute("aria-describedby"))?.textContent ?? ""), new RegExp(why));
  await assertAccessible(member, "a member's blocked view");
  const refused = await callApi("POST", "/mcp-tokens", { account: GOVERNED, as: MEMBER, body: { name: "Not allowed" } });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.code, "token_policy");

  const admin = await open(GOVERNED, 1280, ADMIN);
  assert.ok(await admin.getByRole("button", { name: "Generate Token" }).isEnabled(), "admins are not blocked");
  assert.ok(await admin.getByText(why).isHidden());
  assert.equal(await admin.getByRole("button", { name: "Generate Token" }).getAttribute("aria-describedby"), null, "nor told they are");
});

test("every dialog and the page fit 1280 and 390 px wide viewports", async () => {
  const account = unique("acct_fit");
  // A long unbroken name and a long allowlist from a member: the owner's list has every column.
  const name = unique("Pinned_" + "x".repeat(40));
  const ips = Array.from({ length: 12 }, (_, i) => `2001:db8:${(0xa000 + i).toString(16)}:ffff::/64`);
  assert.equal((await callApi("POST", "/mcp-tokens", { account, as: MEMBER, body: { name, allowed_ips: ips } })).status, 201);

  for (const width of [1280, 390]) {
    const page = await open(account, width);
    await page.getByRole("form", { name: "Token policy" }).waitFor();
    const fits = async (what) => {
      const m = await page.evaluate(() => {
        const d = document.querySelector("dialog[open]");
        const box = d?.getBoundingClientRect();
        return { left: box?.left ?? 0, right: box?.right ?? 0, overflow: d ? d.scrollWidth - d.clientWidth : 0, page: document.scrollingElement.scrollWidth };
      });
      assert.ok(m.left >= 0 && m.right <= width, `${what} at ${width}px: ${JSON.stringify(m)}`);
      assert.ok(m.overflow <= 0, `${what} has nothing wider than itself at ${width}px: ${JSON.stringify(m)}`);
      assert.ok(m.page <= width, `the page does not scroll sideways with ${what} at ${width}px: ${JSON.stringify(m)}`);
    };
    await fits("no dialog");

    await page.getByRole("button", { name: "Generate Token" }).click();
    const create = page.getByRole("dialog", { name: "Create MCP Token" });
    await create.getByLabel("Allowed IP addresses (optional)").fill(ips.join("\n"));
    await create.getByLabel("Name").fill("x".repeat(64));
    await fits("the generate dialog");
    await create.getByLabel("Allowed IP addresses (optional)").fill("");
    await create.getByRole("button", { name: "Create" }).click();
    await page.getByLabel("Your token").waitFor();
    await fits("the token dialog");
    await page.getByRole("tab", { name: "Claude Code" }).click();
    await fits("the token dialog's Claude Code tab");
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });

    const row = page.locator("tr", { hasText: name });
    await row.getByRole("button", { name: `History of ${name}` }).click();
    await page.getByRole("dialog", { name: `History of “${name}”` }).locator("li").first().waitFor();
    await fits("the history dialog");
    await page.getByRole("button", { name: "Close" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });

    await row.getByRole("button", { name: `Revoke ${name}` }).click();
    await page.getByRole("dialog", { name: `Revoke “${name}”?` }).waitFor();
    await fits("the revoke dialog");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
    await fits("no dialog, after them all");
    await page.screenshot({ path: `${OUTPUT}roles-${width}.png`, fullPage: true });
    await page.context().close();
  }
});

test("rotate through its dialog: the new token once, both working for the overlap, both rows saying so", async () => {
  // A seeded account: its tokens may call the MCP endpoint.
  const account = "acct_demo";
  const name = unique("Rotated");
  const created = await callApi("POST", "/mcp-tokens", { account, body: { name, scopes: ["customers:read", "analytics:read"] } });
  assert.equal(created.status, 201);
  for (const width of [1280, 390]) {
    const page = await open(account, width);
    const current = page.locator("tr", { hasText: "Replaces" }).or(page.locator("tr", { hasText: name })).first();
    await current.getByRole("button", { name: `Rotate ${name}` }).click();
    const dialog = page.getByRole("dialog", { name: `Rotate “${name}”` });
    assert.ok(await dialog.getByRole("radio", { name: "In 1 hour" }).isChecked(), "an hour unless chosen");
    await assertAccessible(page, `the rotate dialog at ${width} px`);
    await page.screenshot({ path: `${OUTPUT}rotate-dialog-${width}.png` });
    await dialog.getByRole("radio", { name: "In 1 day" }).check();
    await dialog.getByRole("button", { name: "Rotate" }).click();
    const token = await page.getByLabel("Your token").inputValue();
    await page.getByRole("heading", { name: `Token “${name}” rotated` }).waitFor();
    await page.getByText(/The old token works until/).waitFor();
    await page.getByRole("tab", { name: "Claude Desktop" }).click();
    assert.match(await page.getByRole("tabpanel", { name: "Claude Desktop" }).innerText(), new RegExp(token));
    await assertAccessible(page, `the rotated token at ${width} px`);
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
    assert.ok(!(await page.content()).includes(token), "the token is gone from the DOM");

    const rows = page.locator("tbody tr", { hasText: name });
    await page.getByText(/^Replaced by kmcp_…\w{4}, works until/).first().waitFor();
    await page.getByText(/^Replaces kmcp_…\w{4}$/).first().waitFor();
    assert.equal(await rows.first().getByRole("button", { name: `Rotate ${name}` }).count(), 1, "the new one rotates again");
    const replaced = page.locator("tr", { hasText: "Replaced by" }).first();
    assert.equal(await replaced.getByRole("button", { name: `Rotate ${name}` }).count(), 0, "the replaced one does not");
    assert.equal(await callMcp(token), 200, "the new token works");
    await page.context().close();
  }
  // The list holds three of the name: the first, replaced; the second, replaced; the newest.
  const tokens = (await listed(account)).filter((t) => t.name === name);
  assert.equal(tokens.length, 3);
  assert.deepEqual(tokens.map((t) => t.scopes.length), [2, 2, 2], "the same access");
});

test("the inactive rows hide behind a toggle with their count, and Delete removes one keeping nothing else", async () => {
  const account = unique("acct_toggle");
  const names = [unique("Gone"), unique("Kept")];
  for (const name of names) assert.equal((await callApi("POST", "/mcp-tokens", { account, body: { name } })).status, 201);
  const page = await open(account);
  const gone = page.locator("tr", { hasText: names[0] });
  await gone.getByRole("button", { name: `Revoke ${names[0]}` }).click();
  await page.getByRole("dialog", { name: `Revoke “${names[0]}”?` }).getByRole("button", { name: "Confirm" }).click();
  await gone.getByText("revoked").waitFor();
  const toggle = page.getByRole("button", { name: "Show revoked and expired (1)" });
  await toggle.waitFor();

  await page.reload();
  await page.locator(".kmt-table").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1, "active tokens only");
  await page.getByRole("button", { name: "Show revoked and expired (1)" }).click();
  assert.equal(await page.getByRole("button", { name: "Hide revoked and expired (1)" }).getAttribute("aria-pressed"), "true");
  await gone.waitFor();
  assert.equal(await page.locator("tbody tr").count(), 2);
  assert.equal(await gone.getByRole("button", { name: `Revoke ${names[0]}` }).count(), 0);
  await assertAccessible(page, "the list with inactive rows");
  await gone.getByRole("button", { name: `Delete ${names[0]}` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete “${names[0]}” from the list?` });
  await assertAccessible(page, "the delete dialog");
  await confirm.getByRole("button", { name: "Delete" }).click();
  await gone.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Hide revoked and expired (0)" }).waitFor();
  const tokens = await listed(account);
  assert.deepEqual(tokens.map((t) => t.name), [names[1]], "gone from the API's list too");
  const history = await callApi("GET", `/mcp-tokens/${encodeURIComponent((await callApi("GET", "/mcp-tokens?status=all", { account })).json.tokens[0].id)}/events`, { account });
  assert.equal(history.status, 200);
});

test("the create dialog offers Full access, Read-only and Custom, and only Custom shows the scopes", async () => {
  const account = unique("acct_presets");
  const page = await open(account);
  const make = async (preset) => {
    await page.getByRole("button", { name: "Generate Token" }).click();
    const dialog = page.getByRole("dialog", { name: "Create MCP Token" });
    const name = unique(preset);
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("radio", { name: preset }).check();
    const boxes = await dialog.getByRole("checkbox").count();
    if (preset === "Custom") {
      assert.equal(boxes, ALL_SCOPES.length, "Custom shows every scope");
      for (const label of ["Change customers", "Change agents", "Change credits", "Read credits"]) await dialog.getByLabel(label).uncheck();
    } else {
      assert.equal(boxes, 0, `${preset} hides the scopes`);
    }
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByLabel("Your token").waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("dialog").waitFor({ state: "detached" });
    return (await listed(account)).find((t) => t.name === name).scopes.sort();
  };
  assert.deepEqual(await make("Full access"), [...ALL_SCOPES].sort());
  assert.deepEqual(await make("Read-only"), ALL_SCOPES.filter((s) => s.endsWith(":read")).sort());
  assert.deepEqual(await make("Custom"), ["agents:read", "analytics:read", "customers:read"]);
  await page.getByRole("button", { name: "Generate Token" }).click();
  await assertAccessible(page, "the create dialog's access choices");
});

test("the consent page at 1280 and 390 px: accessible, Allow returns to the app with a code and the state, Deny with access_denied", async () => {
  const redirect = "http://127.0.0.1:33418/callback";
  const registered = await fetch(`${base}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Browser Test App", redirect_uris: [redirect] }),
  });
  assert.equal(registered.status, 201);
  const { client_id } = await registered.json();
  const query = (state) =>
    new URLSearchParams({
      response_type: "code",
      client_id,
      redirect_uri: redirect,
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      scope: "customers:read analytics:read",
      state,
    }).toString();
  for (const [width, allow] of [[1280, true], [390, false]]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, extraHTTPHeaders: { "x-dev-account": "acct_other" } });
    const page = await context.newPage();
    let landed;
    // The app's callback: nothing listens there; the redirect itself is the answer.
    await page.route(`${redirect}**`, (route) => {
      landed = new URL(route.request().url());
      return route.fulfill({ status: 200, contentType: "text/plain", body: "back in the app" });
    });
    await page.goto(`${base}/oauth/authorize?${query(`w${width}`)}`);
    await page.getByRole("heading", { name: "Allow Browser Test App to use your Knotie account?" }).waitFor();
    assert.match(await page.locator("main").innerText(), /See your customers[\s\S]*See call analytics/);
    assert.match(await page.locator("main").innerText(), /127\.0\.0\.1:33418/);
    await assertAccessible(page, `consent page at ${width} px`);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, `the consent page fits ${width} px`);
    await page.screenshot({ path: `${OUTPUT}consent-${width}.png`, fullPage: true });
    await page.getByRole("button", { name: allow ? "Allow" : "Deny" }).click();
    await page.waitForURL(`${redirect}**`);
    assert.equal(landed.searchParams.get("state"), `w${width}`);
    assert.equal(landed.searchParams.get("iss"), base);
    if (allow) {
      assert.match(landed.searchParams.get("code") ?? "", /^kmcp_/);
    } else {
      assert.equal(landed.searchParams.get("error"), "access_denied");
      assert.equal(landed.searchParams.get("code"), null);
    }
    await context.close();
  }
});
