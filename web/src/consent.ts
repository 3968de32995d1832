// The consent section of MCP authorization: the page an app sends a person to (the
// authorization endpoint). The host app mounts it on its /oauth/authorize route, signed
// in, as it mounts Settings → MCP Tokens: it reads the app's request from the URL, asks
// the API what to show (GET /oauth/consent), and sends the person back to the app with
// the answer (POST /oauth/consent).

export interface ConsentOptions {
  /** The management API's base URL ("" for the same origin). */
  apiUrl: string;
  /** The signed-in user's session JWT, from the host app. */
  getSessionToken: () => string | Promise<string>;
  /** Extra request headers (the local server's dev identity). */
  headers?: Record<string, string>;
  /** The authorization request's query string; default: this page's. */
  query?: string;
  /** Where the person goes next; default: location.assign. */
  navigate?: (url: string) => void;
}

interface Review {
  redirect_to?: string;
  client: { id: string; name: string; redirect_host: string };
  account: string;
  user: string;
  scopes: string[];
  withheld: string[];
  refusal: string | null;
}

const SCOPE_TEXT: Record<string, string> = {
  "customers:read": "See your customers",
  "customers:write": "Create and change customers",
  "agents:read": "See your voice agents",
  "agents:write": "Create and change voice agents",
  "credits:read": "See credit balances and transactions",
  "credits:write": "Allocate credits to customers",
  "analytics:read": "See call analytics",
};

function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export async function mountConsent(root: HTMLElement, options: ConsentOptions): Promise<void> {
  const query = (options.query ?? location.search).replace(/^\?/, "");
  const navigate = options.navigate ?? ((url: string) => location.assign(url));
  const headers = async (): Promise<Record<string, string>> => ({
    ...options.headers,
    authorization: `Bearer ${await options.getSessionToken()}`,
  });
  const section = el("section", { class: "kmt kmt-consent", "aria-labelledby": "kmt-consent-title" });
  root.replaceChildren(section);
  const fail = (message: string) =>
    section.replaceChildren(el("h1", { id: "kmt-consent-title" }, "This app can't connect"), el("p", { role: "alert" }, message));

  let review: Review;
  try {
    const response = await fetch(`${options.apiUrl}/oauth/consent?${query}`, { headers: await headers() });
    const body = await response.json();
    if (!response.ok) return fail(body?.error?.message ?? `The request failed (${response.status}).`);
    review = body as Review;
  } catch {
    return fail("Knotie could not be reached. Try again in a moment.");
  }
  if (review.redirect_to) return navigate(review.redirect_to);

  const decide = async (allow: boolean, button: HTMLButtonElement) => {
    for (const b of section.querySelectorAll("button")) b.disabled = true;
    button.textContent = allow ? "Connecting…" : "Cancelling…";
    const response = await fetch(`${options.apiUrl}/oauth/consent`, {
      method: "POST",
      headers: { ...(await headers()), "content-type": "application/json" },
      body: JSON.stringify({ request: query, allow }),
    });
    const body = await response.json();
    if (!response.ok || !body.redirect_to) return fail(body?.error?.message ?? `The request failed (${response.status}).`);
    navigate(body.redirect_to);
  };
  const allow = el("button", { type: "button", class: "kmt-button kmt-primary" }, "Allow") as HTMLButtonElement;
  const deny = el("button", { type: "button", class: "kmt-button" }, review.refusal ? "Back to the app" : "Deny") as HTMLButtonElement;
  allow.addEventListener("click", () => decide(true, allow));
  deny.addEventListener("click", () => decide(false, deny));
  const scopes = el("ul", {}, ...review.scopes.map((s) => el("li", {}, SCOPE_TEXT[s] ?? s)));
  section.replaceChildren(
    el("h1", { id: "kmt-consent-title" }, `Allow ${review.client.name} to use your Knotie account?`),
    el("p", {}, `Account ${review.account}, signed in as ${review.user}. You will be sent back to `, el("strong", {}, review.client.redirect_host), "."),
    ...(review.refusal
      ? [el("p", { role: "alert" }, `You can't allow this: ${review.refusal}.`)]
      : [
          el("h2", {}, "It will be able to"),
          scopes,
          ...(review.withheld.length ? [el("p", {}, `Not included (the account's policy does not allow it): ${review.withheld.map((s) => SCOPE_TEXT[s] ?? s).join(", ")}.`)] : []),
          el("p", {}, "It appears in Settings → MCP Tokens as a connected app; revoke it there at any time."),
        ]),
    el("div", { class: "kmt-actions" }, ...(review.refusal ? [] : [allow]), deny),
  );
}
