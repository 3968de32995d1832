// Settings → MCP Tokens: the section a host app embeds. Plain DOM and native <dialog>
// (modal, focus kept inside, Escape closes): nothing to load but this file and its CSS.
// The token is held only while the dialog that shows it is open.

export interface Options {
  /** Base URL of the management API, e.g. https://abc.execute-api.eu-west-1.amazonaws.com ("" = same origin). */
  apiUrl: string;
  /** The signed-in user's session JWT, from the host app. */
  getSessionToken: () => string | Promise<string>;
  /** Extra request headers (the local development server reads `x-dev-account`, `x-dev-user`, `x-dev-role`). */
  headers?: Record<string, string>;
}

interface Listed {
  id: string;
  name: string;
  hint: string;
  scopes: string[];
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** Where its last recorded use came from. */
  last_used_ip?: string | null;
  status: "active" | "revoked" | "expired" | "replaced";
  revoked_reason?: "user" | "leaked" | "reported_by_holder" | "offboarded" | "unused" | "replayed" | "app" | null;
  leak_url?: string | null;
  /** Where it may be used from; null: anywhere. */
  allowed_ips?: string[] | null;
  /** A rotation replaced it: by which token, and until when it still works. */
  replaced_by?: { id: string; hint: string; at: string; works_until: string } | null;
  /** It was made by rotating this token. */
  replaces?: { id: string; hint: string } | null;
  /** An app the user connected by authorization (OAuth): the row is its grant. */
  connected_app?: { client_id: string; name: string } | null;
}

/** Who is looking: members see and govern only their own tokens. */
interface Viewer {
  user: string;
  role: "owner" | "admin" | "member";
}

/** What the account's owners and admins allow its tokens (GET/PUT /mcp-tokens/policy). */
interface Policy {
  max_lifetime_days: number | null;
  allowed_scopes: string[];
  /** What members' tokens may do, within allowed_scopes. */
  member_scopes: string[];
  members_may_create: boolean;
  /** Tokens unused this many days are retired; null: never. */
  revoke_unused_after_days: number | null;
}

/** An entry of a token's history (GET /mcp-tokens/{id}/events). */
interface TokenEvent {
  type: "created" | "revoked" | "changed" | "rotated" | "reused_after_rotation" | "deleted";
  at: string;
  by?: string;
  scopes?: string[];
  reason?: "user" | "leaked" | "reported_by_holder" | "offboarded" | "unused";
  url?: string;
  source?: string;
  tool?: string;
  target?: string;
  overlap_minutes?: number;
  replaced_by?: string;
  replaces?: string;
  from?: string;
}

interface Created {
  id: string;
  name: string;
  token: string;
  client_configs: Record<string, unknown>;
  warning?: string;
  /** A rotation's: the token it replaced, and until when that one works. */
  replaces?: { id: string; works_until: string };
}

const SCOPES: [scope: string, label: string][] = [
  ["customers:read", "Read customers"],
  ["customers:write", "Change customers"],
  ["agents:read", "Read agents"],
  ["agents:write", "Change agents"],
  ["credits:read", "Read credits"],
  ["credits:write", "Change credits"],
  ["analytics:read", "Read analytics"],
];
const READ_SCOPES = SCOPES.map(([scope]) => scope).filter((s) => s.endsWith(":read"));
/** An account that never set a policy: every scope, any lifetime, anyone may create. */
const ALL_SCOPES = SCOPES.map(([scope]) => scope);
const OPEN_POLICY: Policy = { max_lifetime_days: null, allowed_scopes: ALL_SCOPES, member_scopes: ALL_SCOPES, members_may_create: true, revoke_unused_after_days: null };
const EXPIRY_DAYS = [30, 90, 365];
/** How long a rotated token keeps working, as the Rotate dialog offers it. */
const OVERLAPS: [minutes: number, label: string][] = [
  [0, "Now"],
  [60, "In 1 hour"],
  [1440, "In 1 day"],
  [10080, "In 7 days"],
];
/** An active token unused this long is marked in the list. */
const UNUSED_MARK_DAYS = 30;
const DAY_MS = 86_400_000;
const PAGE_SIZE = 20;
// Each client's tab in the created-token dialog: its label and, for the connectors that
// sign in by URL instead of taking the token (offered when MCP authorization is on),
// what to do with the URL shown.
const CLIENTS: [key: string, label: string, how?: string][] = [
  ["cursor", "Cursor"],
  ["windsurf", "Windsurf"],
  ["claude_desktop", "Claude Desktop"],
  ["vscode", "VS Code"],
  ["claude_code", "Claude Code"],
  [
    "claude_connector",
    "Claude connector",
    "No token needed: in Claude (web, desktop or mobile), open Settings → Connectors → Add custom connector, paste this URL, then Connect and allow access with your Knotie account. It shows here as “Connected app: Claude”.",
  ],
  [
    "chatgpt_connector",
    "ChatGPT connector",
    "No token needed: in ChatGPT, open Settings → Apps & Connectors → Create (developer mode), paste this URL, choose OAuth, then allow access with your Knotie account. It shows here as a connected app.",
  ],
];

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Checks a name as the API does: 1–64 characters once trimmed, no control characters. */
export function nameProblem(raw: string): string | null {
  const name = raw.trim();
  if (!name) return "Give the token a name, such as “Cursor Development”.";
  if ([...name].length > 64) return "The name can be at most 64 characters.";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "The name can't contain control characters.";
  return null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

const formatDate = (iso: string | null) =>
  iso ? new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "never";
const formatTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

/** Whole days since an instant. */
const daysSince = (iso: string) => Math.floor((Date.now() - Date.parse(iso)) / DAY_MS);

function access(scopes: string[]): string {
  if (scopes.length === SCOPES.length) return "Full access";
  if (scopes.every((s) => READ_SCOPES.includes(s))) return "Read-only";
  return "Custom";
}

/** An allowlist entry as a person wrote it: the API lists a single address as a network of one. */
const address = (net: string) => net.replace(net.includes(":") ? /\/128$/ : /\/32$/, "");

/** An API message, which starts lowercase and has no full stop, as a sentence. */
const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1) + ".";

/** A checkbox for each scope, labelled in words with the scope's name beneath. */
function scopeChoices(prefix: string, scopes: string[], checked: (scope: string) => boolean, name = "scope"): HTMLLabelElement[] {
  return SCOPES.filter(([scope]) => scopes.includes(scope)).map(([scope, label]) => {
    const id = `${prefix}-${scope.replace(":", "-")}`;
    const input = el("input", { type: "checkbox", name, value: scope, id });
    input.checked = checked(scope);
    return el("label", { class: "kmt-choice", for: id }, input, el("span", {}, el("strong", {}, label), el("small", {}, scope)));
  });
}

const checkedScopes = (form: HTMLFormElement, name = "scope") =>
  [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((input) => input.value);

export function mountMcpTokens(root: HTMLElement, options: Options) {
  let nextCursor: string | null = null;
  let viewer: Viewer | null = null;
  let policy: Policy | null = null;
  // The list shows active tokens; the toggle adds the revoked, expired and replaced ones.
  let showInactive = false;
  const managesAccount = () => viewer?.role === "owner" || viewer?.role === "admin";

  root.replaceChildren();
  const generate = el("button", { type: "button", class: "kmt-button kmt-primary" }, "Generate Token");
  const generateNote = el("p", { id: "kmt-generate-note", class: "kmt-help", hidden: "" }, "Your account's token policy lets only owners and admins create tokens.");
  // Owners and admins get the policy form below the list, once the viewer is known.
  const policySlot = el("div");
  const banner = el("div", { class: "kmt-banner", role: "alert", hidden: "" });
  const live = el("p", { class: "kmt-visually-hidden", "aria-live": "polite" });
  const list = el("div", { class: "kmt-list" });
  const more = el("button", { type: "button", class: "kmt-button", hidden: "" }, "Show more");
  const inactiveToggle = el("button", { type: "button", class: "kmt-button kmt-quiet", "aria-pressed": "false", hidden: "" });
  root.append(
    el(
      "section",
      { class: "kmt", "aria-labelledby": "kmt-title" },
      el(
        "div",
        { class: "kmt-head" },
        el(
          "div",
          {},
          el("h2", { id: "kmt-title" }, "MCP Tokens"),
          el(
            "p",
            { class: "kmt-lede" },
            "Personal tokens let AI assistants — Cursor, Windsurf, Claude Desktop, VS Code, Claude Code — work with your customers, agents, credits and analytics through the Model Context Protocol.",
          ),
        ),
        el("div", { class: "kmt-generate" }, generate, generateNote),
      ),
      banner,
      live,
      list,
      el("div", { class: "kmt-list-actions" }, more, inactiveToggle),
      policySlot,
    ),
  );

  const announce = (message: string) => {
    live.textContent = "";
    // A fresh text node makes screen readers announce repeats too.
    requestAnimationFrame(() => (live.textContent = message));
  };

  function showBanner(kind: "error" | "warning", message: string, onRetry?: () => void) {
    banner.className = `kmt-banner kmt-${kind}`;
    banner.replaceChildren(el("p", {}, message));
    if (onRetry) {
      const button = el("button", { type: "button", class: "kmt-button" }, "Retry");
      button.addEventListener("click", () => {
        banner.hidden = true;
        onRetry();
      });
      banner.append(button);
    }
    banner.hidden = false;
  }

  /** Errors a person can act on, in the product's words. */
  function explain(error: unknown, onRetry?: () => void): string | null {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) {
      showBanner("error", "Your session has expired. Sign in again to manage your MCP tokens.");
      return null;
    }
    if (error.status === 0 || error.status >= 500) {
      showBanner("error", "Knotie can't be reached right now. Check your connection and try again.", onRetry);
      return null;
    }
    return error.message;
  }

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${options.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await options.getSessionToken()}`,
          "content-type": "application/json",
          ...options.headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "unreachable", "unreachable");
    }
    if (response.status === 204) return undefined as T;
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = json?.error ?? {};
      throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
    }
    return json as T;
  }

  function row(token: Listed): HTMLTableRowElement {
    const status = el("span", { class: `kmt-status kmt-status-${token.status}` }, token.status);
    // Why it was revoked reads as a warning; what a rotation left and disuse, as notes.
    const notes = [
      [revokedWhy(token), "kmt-why"],
      [rotation(token), "kmt-note"],
      [disuse(token), "kmt-note"],
    ].filter((n): n is [string, string] => n[0] !== null);
    const actions = el("td", { "data-label": "" });
    const history = el("button", { type: "button", class: "kmt-button kmt-quiet", "aria-label": `History of ${token.name}` }, "History");
    history.addEventListener("click", () => openHistory(token, history));
    actions.append(history);
    if (token.status === "active") {
      // A connected app renews its own access: it is revoked and connected again, never rotated.
      if (!token.replaced_by && !token.connected_app) {
        const rotate = el("button", { type: "button", class: "kmt-button kmt-quiet", "aria-label": `Rotate ${token.name}` }, "Rotate");
        rotate.addEventListener("click", () => openRotate(token, rotate));
        actions.append(rotate);
      }
      const revoke = el("button", { type: "button", class: "kmt-button kmt-danger-quiet", "aria-label": `Revoke ${token.name}` }, "Revoke");
      const revoked = () => actions.replaceChildren(history, deleteButton(token, () => tr));
      revoke.addEventListener("click", () => confirmRevoke(token, tr, status, revoked, revoke));
      actions.append(revoke);
    } else {
      actions.append(deleteButton(token, () => tr));
    }
    const cell = (label: string, content: Node | string) => el("td", { "data-label": label }, content);
    const ips = token.allowed_ips?.length ? [el("span", { class: "kmt-ips" }, `Only from ${token.allowed_ips.map(address).join(", ")}`)] : [];
    const lastUsed = token.last_used_at && token.last_used_ip ? `${formatDate(token.last_used_at)} from ${token.last_used_ip}` : formatDate(token.last_used_at);
    const tr = el(
      "tr",
      { "data-token-id": token.id },
      el(
        "th",
        { scope: "row", "data-label": "Name", tabindex: "-1" },
        ...(token.connected_app ? [el("span", { class: "kmt-app" }, "Connected app: "), token.connected_app.name] : [token.name]),
        ...ips,
      ),
      cell("Token", el("code", {}, token.hint)),
      cell("Access", access(token.scopes)),
      ...(managesAccount() ? [cell("Created by", createdBy(token.created_by))] : []),
      cell("Created", formatDate(token.created_at)),
      cell("Last used", lastUsed),
      cell("Expires", formatDate(token.expires_at)),
      cell("Status", notes.length ? el("span", {}, status, ...notes.map(([text, kind]) => el("span", { class: kind }, text))) : status),
      actions,
    );
    return tr;
  }

  /** What a rotation left on a token: replaced (working until when), or replacing one. */
  function rotation(token: Listed): string | null {
    if (token.replaced_by && token.status === "active") return `Replaced by ${token.replaced_by.hint}, works until ${formatTime(token.replaced_by.works_until)}`;
    if (token.replaced_by) return `Replaced by ${token.replaced_by.hint} on ${formatDate(token.replaced_by.at)}`;
    if (token.replaces) return `Replaces ${token.replaces.hint}`;
    return null;
  }

  /** An active token nobody has used for a while: the page's advice is to retire it. */
  function disuse(token: Listed): string | null {
    if (token.status !== "active") return null;
    const days = daysSince(token.last_used_at ?? token.created_at);
    if (days < UNUSED_MARK_DAYS) return null;
    return token.last_used_at ? `Not used for ${days} days` : `Never used in ${days} days`;
  }

  /** Delete for a row that no longer works: it leaves the list, its history stays. */
  function deleteButton(token: Listed, tr: () => HTMLTableRowElement): HTMLButtonElement {
    const button = el("button", { type: "button", class: "kmt-button kmt-danger-quiet", "aria-label": `Delete ${token.name}` }, "Delete");
    button.addEventListener("click", () =>
      confirmAction(button, {
        title: `Delete “${token.name}” from the list?`,
        body: "It no longer works. Deleting it only removes it from this list; nothing else changes.",
        action: "Delete",
        run: async () => {
          await api("DELETE", `/mcp-tokens/${encodeURIComponent(token.id)}`);
          const row = tr();
          const next = (row.nextElementSibling ?? row.previousElementSibling)?.querySelector<HTMLElement>("th");
          row.remove();
          announce(`Token ${token.name} deleted from the list.`);
          (next ?? inactiveToggle).focus();
          await countInactive();
        },
      }),
    );
    return button;
  }

  /** Who made a token, and — for owners and admins — the offboarding of that user. */
  function createdBy(user: string): HTMLElement {
    const offboard = el("button", { type: "button", class: "kmt-button kmt-danger-quiet kmt-small", "aria-label": `Revoke all tokens ${user} made` }, "Revoke all");
    offboard.addEventListener("click", () => confirmOffboard(user, offboard));
    return el("span", { class: "kmt-maker" }, el("span", { class: "kmt-maker-name" }, user), offboard);
  }

  function confirmOffboard(user: string, trigger: HTMLButtonElement) {
    confirmAction(trigger, {
      title: `Revoke every token ${user} made?`,
      body: "For someone who left: each of their tokens stops working on its very next request, and its history says why. This can't be undone.",
      action: "Revoke all their tokens",
      run: async () => {
        const { revoked } = await api<{ revoked: number }>("POST", "/mcp-tokens/revoke-user", { user });
        announce(`${revoked} ${revoked === 1 ? "token" : "tokens"} of ${user} revoked.`);
        await load(true);
        generate.focus();
      },
    });
  }

  /** Why a token was revoked, when someone other than a user of the account did it. */
  function revokedWhy(token: Listed): string | null {
    if (token.revoked_reason === "leaked") {
      return token.leak_url ? `Revoked automatically: found in public at ${token.leak_url}` : "Revoked automatically: found in public";
    }
    if (token.revoked_reason === "reported_by_holder") return "Revoked: reported as leaked by whoever held it";
    if (token.revoked_reason === "offboarded") return `Revoked: ${token.created_by} left the account`;
    if (token.revoked_reason === "unused") return "Revoked: unused for longer than the account's token policy allows";
    if (token.revoked_reason === "replayed") return "Revoked: its authorization was used twice, so a copy was in other hands";
    if (token.revoked_reason === "app") return "Revoked: the app disconnected itself";
    return null;
  }

  function describe(event: TokenEvent): string {
    switch (event.type) {
      case "created":
        return `Created by ${event.by ?? "someone"}${event.scopes ? ` (${access(event.scopes)})` : ""}`;
      case "revoked":
        if (event.reason === "leaked") {
          const where = event.url ? ` at ${event.url}` : "";
          const what = event.source ? ` (${event.source})` : "";
          return `Revoked automatically: found in public${where}${what}`;
        }
        if (event.reason === "reported_by_holder") return "Revoked: reported as leaked by whoever held it";
        if (event.reason === "offboarded") return `Revoked by ${event.by ?? "an admin"}: its maker left the account`;
        if (event.reason === "unused") return "Revoked: unused for longer than the account's token policy allows";
        return `Revoked by ${event.by ?? "a user"}`;
      case "rotated":
        return event.replaced_by
          ? `Rotated by ${event.by ?? "someone"}: replaced by a new token, ${overlap(event.overlap_minutes ?? 0)}`
          : `Made by ${event.by ?? "someone"} rotating an earlier token`;
      case "reused_after_rotation":
        return event.replaced_by
          ? `Used after it was replaced, from ${event.from ?? "an unknown address"}: refused`
          : `The token it replaced was used after its end, from ${event.from ?? "an unknown address"}: refused`;
      case "deleted":
        return `Deleted from the list by ${event.by ?? "a user"}`;
      default:
        return `${event.tool ?? "A tool"} changed ${event.target ?? "something"}`;
    }
  }

  /** How long a rotated token kept working, in words. */
  function overlap(minutes: number): string {
    const label = OVERLAPS.find(([m]) => m === minutes)?.[1];
    if (minutes === 0) return "the old one stopping at once";
    return `the old one working ${label ? label.toLowerCase().replace(/^in /, "for ") : `for ${minutes} minutes`} more`;
  }

  function openHistory(token: Listed, trigger: HTMLButtonElement) {
    const d = dialog("kmt-history-title");
    const items = el("ol", { class: "kmt-history" });
    const error = el("p", { class: "kmt-form-error", role: "alert", hidden: "" });
    const older = el("button", { type: "button", class: "kmt-button", hidden: "" }, "Show older");
    const close = el("button", { type: "button", class: "kmt-button" }, "Close");
    let cursor: string | null = null;
    async function more() {
      try {
        const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
        const page = await api<{ events: TokenEvent[]; next_cursor: string | null }>("GET", `/mcp-tokens/${encodeURIComponent(token.id)}/events${query}`);
        items.append(...page.events.map((e) => el("li", {}, el("time", { datetime: e.at }, formatDate(e.at)), " ", describe(e))));
        cursor = page.next_cursor;
        older.hidden = !cursor;
      } catch (e) {
        error.textContent = explain(e) ?? "The history could not be read.";
        error.hidden = false;
      }
    }
    older.addEventListener("click", more);
    close.addEventListener("click", () => d.close());
    d.addEventListener("close", () => trigger.focus());
    d.append(
      el("h2", { id: "kmt-history-title" }, `History of “${token.name}”`),
      el("p", {}, "What happened to this token, newest first: when it was made and revoked, and each change an assistant made with it."),
      items,
      error,
      el("div", { class: "kmt-actions" }, older, close),
    );
    d.showModal();
    close.focus();
    return more();
  }

  function table(): HTMLTableSectionElement {
    const existing = list.querySelector("tbody");
    if (existing) return existing;
    const columns = ["Name", "Token", "Access", ...(managesAccount() ? ["Created by"] : []), "Created", "Last used", "Expires", "Status"];
    const head = columns.map((h) => el("th", { scope: "col" }, h));
    head.push(el("th", { scope: "col" }, el("span", { class: "kmt-visually-hidden" }, "Actions")));
    const body = el("tbody");
    const caption = managesAccount() ? "The account's MCP tokens, newest first" : "Your MCP tokens, newest first";
    list.replaceChildren(el("table", { class: "kmt-table" }, el("caption", { class: "kmt-visually-hidden" }, caption), el("thead", {}, el("tr", {}, ...head)), body));
    return body;
  }

  /** What the viewer may do here: generate under the policy, and govern it if they manage the account. */
  function govern() {
    const blocked = !managesAccount() && policy?.members_may_create === false;
    generate.disabled = blocked;
    generateNote.hidden = !blocked;
    // Only while blocked: a hidden description would still be read out.
    if (blocked) generate.setAttribute("aria-describedby", generateNote.id);
    else generate.removeAttribute("aria-describedby");
    if (managesAccount() && policy && !policySlot.firstChild) policySlot.append(policyForm(policy));
  }

  function policyForm(current: Policy): HTMLFormElement {
    const days = el("input", { id: "kmt-policy-days", type: "text", inputmode: "numeric", autocomplete: "off", value: current.max_lifetime_days?.toString() ?? "", "aria-describedby": "kmt-policy-days-help" });
    const unused = el("input", { id: "kmt-policy-unused", type: "text", inputmode: "numeric", autocomplete: "off", value: current.revoke_unused_after_days?.toString() ?? "", "aria-describedby": "kmt-policy-unused-help" });
    const members = el("input", { id: "kmt-policy-members", type: "checkbox" });
    members.checked = current.members_may_create;
    const error = el("p", { class: "kmt-form-error", role: "alert", hidden: "" });
    const saved = el("p", { class: "kmt-saved", role: "status" });
    const save = el("button", { type: "submit", class: "kmt-button kmt-primary" }, "Save policy");
    const form = el(
      "form",
      { class: "kmt-policy", "aria-labelledby": "kmt-policy-title", novalidate: "" },
      el("h3", { id: "kmt-policy-title" }, "Token policy"),
      el("p", { class: "kmt-help" }, "Applies to every token of the account, including tokens made before: a tighter policy narrows them on their next call."),
      el("label", { for: "kmt-policy-days" }, "Maximum lifetime in days"),
      days,
      el("p", { id: "kmt-policy-days-help", class: "kmt-help" }, "1–365 days. Leave empty for no maximum; with a maximum, every token must expire."),
      el("fieldset", {}, el("legend", {}, "Allowed scopes"), el("div", { class: "kmt-scopes" }, ...scopeChoices("kmt-policy", OPEN_POLICY.allowed_scopes, (s) => current.allowed_scopes.includes(s)))),
      el(
        "fieldset",
        { "aria-describedby": "kmt-policy-member-scopes-help" },
        el("legend", {}, "Members' tokens may"),
        el("p", { id: "kmt-policy-member-scopes-help", class: "kmt-help" }, "Of the allowed scopes, what tokens made by members may do. Owners' and admins' tokens may do all that is allowed."),
        el("div", { class: "kmt-scopes" }, ...scopeChoices("kmt-policy-member", OPEN_POLICY.member_scopes, (s) => current.member_scopes.includes(s), "member_scope")),
      ),
      el("label", { class: "kmt-choice", for: "kmt-policy-members" }, members, el("span", {}, "Members may create tokens")),
      el("label", { for: "kmt-policy-unused" }, "Revoke tokens unused for (days)"),
      unused,
      el("p", { id: "kmt-policy-unused-help", class: "kmt-help" }, "30–365 days. A token nobody used that long is refused on its next call and revoked. Leave empty to keep unused tokens."),
      error,
      el("div", { class: "kmt-policy-actions" }, save, saved),
    );
    form.addEventListener("input", () => (saved.textContent = ""));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      saved.textContent = "";
      error.hidden = true;
      const raw = days.value.trim();
      const idle = unused.value.trim();
      // Anything but digits would reach JSON as null, silently meaning "no maximum".
      if (raw && !/^\d+$/.test(raw)) {
        error.textContent = "Write the maximum lifetime as a whole number of days, or leave it empty for no maximum.";
        error.hidden = false;
        return days.focus();
      }
      if (idle && !/^\d+$/.test(idle)) {
        error.textContent = "Write the days a token may go unused as a whole number, or leave it empty to keep unused tokens.";
        error.hidden = false;
        return unused.focus();
      }
      save.disabled = true;
      try {
        policy = await api<Policy>("PUT", "/mcp-tokens/policy", {
          max_lifetime_days: raw ? Number(raw) : null,
          allowed_scopes: checkedScopes(form),
          // Within what the account allows: a member scope outside it would be refused.
          member_scopes: checkedScopes(form, "member_scope").filter((s) => checkedScopes(form).includes(s)),
          members_may_create: members.checked,
          revoke_unused_after_days: idle ? Number(idle) : null,
        });
        govern();
        saved.textContent = "Policy saved.";
      } catch (e) {
        const message = explain(e);
        if (message) {
          error.textContent = sentence(message);
          error.hidden = false;
        }
      } finally {
        save.disabled = false;
      }
    });
    return form;
  }

  async function load(first: boolean) {
    try {
      const cursor = first ? "" : `&cursor=${encodeURIComponent(nextCursor ?? "")}`;
      const status = showInactive ? "all" : "active";
      // The first page comes with the policy: what the generate dialog offers depends on it.
      const [page, current] = await Promise.all([
        api<{ tokens: Listed[]; next_cursor: string | null; viewer: Viewer }>("GET", `/mcp-tokens?status=${status}&limit=${PAGE_SIZE}${cursor}`),
        first ? api<Policy>("GET", "/mcp-tokens/policy") : policy,
        first ? countInactive() : undefined,
      ]);
      viewer = page.viewer;
      policy = current;
      govern();
      if (first && page.tokens.length === 0) {
        list.replaceChildren(
          el(
            "div",
            { class: "kmt-empty" },
            el("p", {}, el("strong", {}, showInactive ? "No tokens." : inactiveToggle.hidden ? "No tokens yet." : "No active tokens.")),
            el("p", {}, "A token lets an AI assistant such as Cursor or Claude Desktop work with your Knotie account. Generate one, paste it into the assistant's MCP settings, and revoke it here when you no longer need it."),
          ),
        );
      } else {
        const body = first ? (list.replaceChildren(), table()) : table();
        body.append(...page.tokens.map(row));
      }
      nextCursor = page.next_cursor;
      more.hidden = !nextCursor;
    } catch (error) {
      const message = explain(error, () => load(first));
      if (message) showBanner("error", sentence(message));
    }
  }

  /** How many rows the toggle would add: revoked, expired and replaced tokens. */
  async function countInactive() {
    const page = await api<{ tokens: Listed[]; next_cursor: string | null }>("GET", "/mcp-tokens?status=inactive&limit=100");
    const count = `${page.tokens.length}${page.next_cursor ? "+" : ""}`;
    inactiveToggle.textContent = showInactive ? `Hide revoked and expired (${count})` : `Show revoked and expired (${count})`;
    inactiveToggle.hidden = page.tokens.length === 0 && !showInactive;
  }

  inactiveToggle.addEventListener("click", async () => {
    showInactive = !showInactive;
    inactiveToggle.setAttribute("aria-pressed", String(showInactive));
    await load(true);
    inactiveToggle.focus();
  });

  more.addEventListener("click", () => load(false));

  function dialog(labelledBy: string): HTMLDialogElement {
    const d = el("dialog", { class: "kmt-dialog", "aria-labelledby": labelledBy });
    // Closing, by any means, removes the dialog and everything it showed.
    d.addEventListener("close", () => d.remove());
    root.append(d);
    return d;
  }

  function copyButton(label: string, text: () => string): HTMLButtonElement {
    const button = el("button", { type: "button", class: "kmt-button" }, "Copy");
    button.setAttribute("aria-label", `Copy ${label}`);
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
      announce(`${label} copied to the clipboard`);
      setTimeout(() => (button.textContent = "Copy"), 2000);
    });
    return button;
  }

  function openCreate() {
    const d = dialog("kmt-create-title");
    const name = el("input", { id: "kmt-name", name: "name", type: "text", placeholder: "Cursor Development", autocomplete: "off", "aria-describedby": "kmt-name-help kmt-name-error" });
    const nameError = el("p", { id: "kmt-name-error", class: "kmt-field-error", "aria-live": "polite" });
    // Only what the policy allows; the API enforces it too, and its refusal is shown.
    const { max_lifetime_days: max, allowed_scopes: account, member_scopes: members } = policy ?? OPEN_POLICY;
    const allowed = managesAccount() ? account : account.filter((s) => members.includes(s));
    const choices = max ? [...EXPIRY_DAYS.filter((d) => d < max), max] : EXPIRY_DAYS;
    const expiry = el(
      "select",
      { id: "kmt-expiry", name: "expiry" },
      ...(max ? [] : [el("option", { value: "" }, "Never")]),
      ...choices.map((d) => el("option", { value: String(d) }, `${d} days`)),
    );
    const expiryHelp = max ? [el("p", { id: "kmt-expiry-help", class: "kmt-help" }, `Your account's token policy lets a token live at most ${max} days.`)] : [];
    if (max) expiry.setAttribute("aria-describedby", "kmt-expiry-help");
    // Full access, read-only, or the scopes one by one (Custom shows them).
    const readable = allowed.filter((scope) => READ_SCOPES.includes(scope));
    const presets: [key: string, label: string, scopes: string[] | null][] = [
      ["full", "Full access", allowed],
      ["read", "Read-only", readable],
      ["custom", "Custom", null],
    ];
    const scopes = el("div", { class: "kmt-scopes", id: "kmt-custom-scopes", hidden: "" }, ...scopeChoices("kmt-scope", allowed, () => true));
    const presetChoices = presets
      .filter(([key, , chosen]) => key !== "read" || (chosen?.length ?? 0) > 0)
      .map(([key, label, chosen]) => {
        const id = `kmt-access-${key}`;
        const input = el("input", { type: "radio", name: "access", value: key, id });
        input.checked = key === "full";
        input.addEventListener("change", () => {
          scopes.hidden = chosen !== null;
          if (chosen) scopes.querySelectorAll<HTMLInputElement>("input").forEach((box) => (box.checked = chosen.includes(box.value)));
        });
        return el("label", { class: "kmt-choice", for: id }, input, el("span", {}, label));
      });
    const ips = el("textarea", { id: "kmt-ips", name: "allowed_ips", rows: "2", autocomplete: "off", spellcheck: "false", placeholder: "203.0.113.0/24", "aria-describedby": "kmt-ips-help" });
    const formError = el("p", { class: "kmt-form-error", role: "alert", hidden: "" });
    const create = el("button", { type: "submit", class: "kmt-button kmt-primary" }, "Create");
    const cancel = el("button", { type: "button", class: "kmt-button" }, "Cancel");
    cancel.addEventListener("click", () => d.close());
    const form = el(
      "form",
      { method: "dialog", novalidate: "" },
      el("h2", { id: "kmt-create-title" }, "Create MCP Token"),
      el("label", { for: "kmt-name" }, "Name"),
      name,
      el("p", { id: "kmt-name-help", class: "kmt-help" }, "Something to recognise it by: the assistant and the machine it runs on. 1–64 characters."),
      nameError,
      el("fieldset", {}, el("legend", {}, "Access"), el("div", { class: "kmt-presets" }, ...presetChoices), scopes),
      el("label", { for: "kmt-expiry" }, "Expires"),
      expiry,
      ...expiryHelp,
      el("label", { for: "kmt-ips" }, "Allowed IP addresses (optional)"),
      ips,
      el("p", { id: "kmt-ips-help", class: "kmt-help" }, "One address or network per line, or separated by commas, e.g. 203.0.113.7 or 2001:db8::/32. Empty: any address."),
      formError,
      el("div", { class: "kmt-actions" }, cancel, create),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = nameProblem(name.value);
      nameError.textContent = problem ?? "";
      name.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) return name.focus();
      formError.hidden = true;
      const scopes = checkedScopes(form);
      if (scopes.length === 0) {
        formError.textContent = "Choose at least one thing the token may do.";
        formError.hidden = false;
        return;
      }
      const body: Record<string, unknown> = { name: name.value.trim(), scopes };
      if (expiry.value) body.expires_in_days = Number(expiry.value);
      const allowedIps = ips.value.split(/[\s,]+/).filter(Boolean);
      if (allowedIps.length) body.allowed_ips = allowedIps;
      await attempt(create, formError, d, async () => {
        showCreated(d, await api<Created>("POST", "/mcp-tokens", body));
        await load(true);
      });
    });
    d.append(form);
    d.showModal();
    name.focus();
  }

  function showCreated(d: HTMLDialogElement, created: Created) {
    const tokenField = el("input", { id: "kmt-token", type: "text", readonly: "", value: created.token, "aria-describedby": "kmt-once" });
    const tabs = el("div", { role: "tablist", "aria-label": "Configuration for your assistant", class: "kmt-tabs" });
    const panels: HTMLElement[] = [];
    const buttons: HTMLButtonElement[] = [];
    const offered = CLIENTS.filter(([key]) => created.client_configs[key] !== undefined);
    offered.forEach(([key, label, how], i) => {
      const config = created.client_configs[key];
      const text = typeof config === "string" ? config : JSON.stringify(config, null, 2);
      const tab = el("button", { type: "button", role: "tab", id: `kmt-tab-${key}`, "aria-controls": `kmt-panel-${key}`, "aria-selected": String(i === 0), tabindex: i === 0 ? "0" : "-1" }, label);
      const copy = copyButton(how ? `${label} URL` : `${label} configuration`, () => text);
      const panel = el("div", { role: "tabpanel", id: `kmt-panel-${key}`, "aria-labelledby": `kmt-tab-${key}`, class: "kmt-panel" }, ...(how ? [el("p", {}, how)] : []), el("pre", { tabindex: "0" }, el("code", {}, text)), copy);
      panel.hidden = i !== 0;
      tab.addEventListener("click", () => select(i));
      tab.addEventListener("keydown", (event) => {
        const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (step) select((i + step + offered.length) % offered.length, true);
      });
      buttons.push(tab);
      panels.push(panel);
      tabs.append(tab);
    });
    function select(index: number, focus = false) {
      buttons.forEach((b, j) => {
        b.setAttribute("aria-selected", String(j === index));
        b.tabIndex = j === index ? 0 : -1;
        panels[j].hidden = j !== index;
      });
      if (focus) buttons[index].focus();
    }
    const done = el("button", { type: "button", class: "kmt-button kmt-primary" }, "Done");
    done.addEventListener("click", () => d.close());
    d.setAttribute("aria-labelledby", "kmt-created-title");
    d.replaceChildren(
      el("h2", { id: "kmt-created-title" }, created.replaces ? `Token “${created.name}” rotated` : `Token “${created.name}” created`),
      el("p", { id: "kmt-once", class: "kmt-once" }, "Copy this token now. It won't be shown again."),
      ...(created.replaces ? [el("p", {}, `The old token works until ${formatTime(created.replaces.works_until)}, or 5 minutes after this one is first used.`)] : []),
      el("label", { for: "kmt-token" }, "Your token"),
      el("div", { class: "kmt-copy-row" }, tokenField, copyButton("token", () => created.token)),
      ...(created.warning ? [el("p", { class: "kmt-banner kmt-warning", role: "alert" }, "API access is not enabled for this account. This token will be refused until API access is enabled for your plan.")] : []),
      el("h3", {}, "Add it to your assistant"),
      tabs,
      ...panels,
      el("div", { class: "kmt-actions" }, done),
    );
    if (created.warning) {
      showBanner("warning", "API access is not enabled for this account. You can create tokens, but assistants using them will be refused until API access is enabled for your plan.");
    }
    announce(`Token ${created.name} ${created.replaces ? "rotated" : "created"}. Copy it now: it won't be shown again.`);
    tokenField.focus();
    tokenField.select();
  }

  /**
   * A dialog's action, its button disabled meanwhile: an error a person can act on is shown
   * in `error`; any other closes the dialog (`explain` put it in the page's banner).
   */
  async function attempt(button: HTMLButtonElement, error: HTMLElement, d: HTMLDialogElement, work: () => Promise<void>) {
    button.disabled = true;
    try {
      await work();
    } catch (e) {
      const message = explain(e);
      if (message) {
        error.textContent = sentence(message);
        error.hidden = false;
      } else {
        d.close();
      }
    } finally {
      button.disabled = false;
    }
  }

  /** A confirmation dialog for what can't be undone: `run` on confirm, its error shown. */
  function confirmAction(trigger: HTMLButtonElement, what: { title: string; body: string; action: string; run: () => Promise<void> }) {
    const d = dialog("kmt-confirm-title");
    const confirm = el("button", { type: "button", class: "kmt-button kmt-danger" }, what.action);
    const cancel = el("button", { type: "button", class: "kmt-button" }, "Cancel");
    const error = el("p", { class: "kmt-form-error", role: "alert", hidden: "" });
    let done = false;
    cancel.addEventListener("click", () => d.close());
    confirm.addEventListener("click", async () => {
      await attempt(confirm, error, d, async () => {
        await what.run();
        done = true;
        d.close();
      });
    });
    // After a change, `run` chose where focus goes; otherwise it returns to the trigger.
    d.addEventListener("close", () => !done && trigger.isConnected && trigger.focus());
    d.append(el("h2", { id: "kmt-confirm-title" }, what.title), el("p", {}, what.body), error, el("div", { class: "kmt-actions" }, cancel, confirm));
    d.showModal();
    cancel.focus();
  }

  function confirmRevoke(token: Listed, tr: HTMLTableRowElement, status: HTMLElement, revoked: () => void, trigger: HTMLButtonElement) {
    confirmAction(trigger, {
      title: `Revoke “${token.name}”?`,
      body: "Assistants using this token stop working on their very next request. This can't be undone.",
      action: "Confirm revoke",
      run: async () => {
        await api("DELETE", `/mcp-tokens/${encodeURIComponent(token.id)}`);
        status.className = "kmt-status kmt-status-revoked";
        status.textContent = "revoked";
        revoked();
        announce(`Token ${token.name} revoked.`);
        tr.querySelector("th")?.focus();
        await countInactive();
      },
    });
  }

  /** Rotate: a new token like this one, shown once; this one keeps working for the overlap chosen. */
  function openRotate(token: Listed, trigger: HTMLButtonElement) {
    const d = dialog("kmt-rotate-title");
    const choices = OVERLAPS.map(([minutes, label]) => {
      const id = `kmt-overlap-${minutes}`;
      const input = el("input", { type: "radio", name: "overlap", value: String(minutes), id });
      input.checked = minutes === 60;
      return el("label", { class: "kmt-choice", for: id }, input, el("span", {}, label));
    });
    const error = el("p", { class: "kmt-form-error", role: "alert", hidden: "" });
    const rotate = el("button", { type: "submit", class: "kmt-button kmt-primary" }, "Rotate");
    const cancel = el("button", { type: "button", class: "kmt-button" }, "Cancel");
    cancel.addEventListener("click", () => d.close());
    const form = el(
      "form",
      { method: "dialog", novalidate: "" },
      el("h2", { id: "kmt-rotate-title" }, `Rotate “${token.name}”`),
      el("p", {}, "A new token with the same name, access and allowed addresses replaces this one. Put the new token in your assistants: the old one keeps working for the time you choose, and stops 5 minutes after the new one is first used."),
      el("fieldset", {}, el("legend", {}, "The old token stops working"), el("div", { class: "kmt-scopes" }, ...choices)),
      error,
      el("div", { class: "kmt-actions" }, cancel, rotate),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = form.querySelector<HTMLInputElement>("input[name=overlap]:checked");
      await attempt(rotate, error, d, async () => {
        const path = `/mcp-tokens/${encodeURIComponent(token.id)}/rotate`;
        showCreated(d, await api<Created>("POST", path, { overlap_minutes: Number(chosen?.value ?? 60) }));
        await load(true);
      });
    });
    d.addEventListener("close", () => trigger.isConnected && trigger.focus());
    d.append(form);
    d.showModal();
    choices[1].querySelector("input")?.focus();
  }

  generate.addEventListener("click", openCreate);
  return load(true);
}
