"""`make smoke`: a deployed stack checked the way an assistant uses it, with the official
Python MCP SDK (PyPI `mcp`, 2.x).

Reads MCP_URL and TOKEN, and for the revoked-token step either API_URL (with SESSION_JWT
for a deployed stack; the local server needs none) to generate and revoke a throwaway
token, or REVOKED_TOKEN, a token already revoked. Prints one line a step, ✓ or ✗, and exits
non-zero if any failed. A token is only ever printed as its hint (kmcp_… and its last 4).
"""
import asyncio
import json
import os
import re
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

TOKEN = re.compile(r"kmcp_[0-9A-Za-z]{46}")
REVOKED = "a revoked token is refused"
failed = 0


def hint(token: str) -> str:
    return "kmcp_…" + token[-4:]


def step(ok: bool, name: str, detail: str) -> None:
    global failed
    failed += not ok
    # Whatever a server or an error says, no token reaches the screen.
    print(f"{'✓' if ok else '✗'} {name}: {TOKEN.sub(lambda m: hint(m.group()), detail)}", flush=True)


def refusal(response: httpx2.Response | None, error: BaseException | None) -> str:
    """What refused a call: the HTTP status and the server's message, else the error."""
    if response is not None:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        return f"HTTP {response.status_code}: {message}"
    # The SDK's task groups wrap what failed: name the failures themselves.
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"


class Connection:
    """The SDK's client over an HTTP client that keeps the last refusal (status >= 400):
    the SDK turns it into a JSON-RPC error and drops the status."""

    def __init__(self, url: str, token: str):
        self.refused: httpx2.Response | None = None

        async def keep_refusal(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                await response.aread()
                self.refused = response

        self.http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx2.Timeout(30),
            event_hooks={"response": [keep_refusal]},
        )
        # The initialize handshake, as most clients still connect.
        self.client = Client(streamable_http_client(url, http_client=self.http), mode="legacy")


async def use_the_token(url: str, token: str) -> None:
    connection = Connection(url, token)
    current = "initialize"
    try:
        async with connection.http, connection.client as client:
            info = client.server_info
            server = f"{info.name} {info.version}" if info else "a server that gave no name"
            step(True, current, f"{server}, protocol {client.protocol_version}")
            current = "tools/list"
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            step(bool(tools), current, f"{len(tools)} tools: {', '.join(tools)}")
            current = "get_account"
            result = await client.call_tool("get_account", {})
            account = result.structured_content or {}
            if result.is_error or "token" not in account:
                text = " ".join(getattr(c, "text", "") for c in result.content)
                step(False, current, text or json.dumps(account))
            else:
                t = account["token"]
                step(
                    True,
                    current,
                    f"{account['name']} (plan {account['plan']}), token scopes "
                    f"{' '.join(t['scopes'])}, expires_at {t['expires_at'] or 'never'}",
                )
    except Exception as e:  # the SDK raises on a refusal; say which step met it
        step(False, current, refusal(connection.refused, e))


async def throwaway_revoked_token(api_url: str, session_jwt: str) -> str | None:
    """Generates a token through the management API and revokes it; None if that failed."""
    headers = {"Authorization": f"Bearer {session_jwt}"} if session_jwt else {}
    async with httpx2.AsyncClient(base_url=api_url.rstrip("/"), headers=headers, timeout=30) as api:
        try:
            made = await api.post("/mcp-tokens", json={"name": "smoke check"})
        except httpx2.HTTPError as e:
            step(False, REVOKED, f"POST {api_url}/mcp-tokens: {refusal(None, e)}")
            return None
        if made.status_code != 201:
            step(False, REVOKED, f"POST /mcp-tokens: {refusal(made, None)}")
            return None
        created = made.json()
        try:
            gone = await api.delete(f"/mcp-tokens/{created['id']}")
            said = "" if gone.status_code == 204 else refusal(gone, None)
        except httpx2.HTTPError as e:
            said = refusal(None, e)
        if said:
            step(
                False,
                REVOKED,
                f"DELETE /mcp-tokens/{created['id']}: {said}; "
                f"that token ({created['hint']}) may still work: revoke it in Settings",
            )
            return None
        print(f"  generated {created['hint']} ({created['id']}) and revoked it", flush=True)
        return created["token"]


async def refused_as_revoked(url: str, token: str) -> None:
    connection = Connection(url, token)
    try:
        async with connection.http, connection.client as client:
            await client.list_tools()
        step(False, REVOKED, f"{hint(token)} was served")
        return
    except Exception as e:
        error = e
    said = refusal(connection.refused, error)
    status = connection.refused.status_code if connection.refused is not None else None
    step(status == 401 and "revoked" in said, REVOKED, said)


async def main() -> int:
    url, token = os.environ.get("MCP_URL", ""), os.environ.get("TOKEN", "")
    if not url or not token:
        print("usage: MCP_URL=https://…/mcp TOKEN=kmcp_… [API_URL=… [SESSION_JWT=…] | REVOKED_TOKEN=kmcp_…]", file=sys.stderr)
        return 2
    print(f"smoke check of {url} with {hint(token)}", flush=True)
    await use_the_token(url, token)
    api_url, revoked = os.environ.get("API_URL", ""), os.environ.get("REVOKED_TOKEN", "")
    if api_url:
        revoked = await throwaway_revoked_token(api_url, os.environ.get("SESSION_JWT", ""))
        if revoked:
            await refused_as_revoked(url, revoked)
    elif revoked:
        await refused_as_revoked(url, revoked)
    else:
        print(
            f"- {REVOKED}: skipped (give API_URL, with SESSION_JWT for a deployed stack, to "
            "generate and revoke a throwaway token, or REVOKED_TOKEN)",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
