"""The official Python MCP SDK's OAuth client (`OAuthClientProvider`) against the endpoint:
discovery from the 401, dynamic client registration, PKCE, consent, tokens, a refresh.

usage: python_oauth.py URL

The consent a person gives on the consent page is given here through the page's own API
(`POST /oauth/consent`, as the local server's dev identity). Prints one JSON object per
step on stdout. After a refresh it prints {"step": "waiting"} and waits for a line on
stdin (the test revokes the grant in Settings meanwhile), then calls again and reports
what happened: the call refused, and the SDK asking a person to authorize again.
"""
import asyncio
import json
import sys
import time
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken


def report(**fields):
    print(json.dumps(fields), flush=True)


class Memory:
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main(url: str) -> None:
    base = f"{urlparse(url).scheme}://{urlparse(url).netloc}"
    answers: list[AuthorizationCodeResult] = []
    authorizations = 0

    async def approve(authorization_url: str) -> None:
        nonlocal authorizations
        authorizations += 1
        parsed = urlparse(authorization_url)
        report(step="authorize", endpoint=f"{parsed.scheme}://{parsed.netloc}{parsed.path}",
               params=sorted(parse_qs(parsed.query)))
        if authorizations > 1:
            raise RuntimeError("a person is asked to authorize again")
        async with httpx2.AsyncClient(timeout=30) as http:
            review = await http.get(f"{base}/oauth/consent?{parsed.query}")
            report(step="consent", status=review.status_code, body=review.json())
            decided = await http.post(f"{base}/oauth/consent", json={"request": parsed.query, "allow": True})
        to = urlparse(decided.json()["redirect_to"])
        params = {k: v[0] for k, v in parse_qs(to.query).items()}
        report(step="redirected", to=f"{to.scheme}://{to.netloc}{to.path}", params=sorted(params))
        answers.append(AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss")))

    async def callback() -> AuthorizationCodeResult:
        return answers.pop()

    storage = Memory()
    auth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Python SDK test app",
            redirect_uris=["http://127.0.0.1:33418/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=approve,
        callback_handler=callback,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            first = storage.tokens
            report(step="connected", server=client.server_info.name, client_id=storage.client.client_id,
                   token_type=first.token_type, expires_in=first.expires_in, scope=first.scope,
                   access_prefix=first.access_token[:5], has_refresh=bool(first.refresh_token))
            tools = await client.list_tools()
            report(step="tools", names=[t.name for t in tools.tools])
            result = await client.call_tool("get_account", {})
            report(step="call", is_error=bool(result.is_error), structured=result.structured_content)

            # The access token's hour, passed: the SDK renews it with its refresh token.
            auth.context.token_expiry_time = time.time() - 1
            result = await client.call_tool("get_account", {})
            second = storage.tokens
            report(step="refreshed", is_error=bool(result.is_error),
                   access_changed=second.access_token != first.access_token,
                   refresh_changed=second.refresh_token != first.refresh_token,
                   spent_refresh=first.refresh_token)

            report(step="waiting")
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            try:
                result = await client.call_tool("get_account", {})
                report(step="after_revoke", refused=False, is_error=bool(result.is_error))
            except BaseException as e:  # the SDK raises once the new authorization fails
                report(step="after_revoke", refused=True, authorizations=authorizations,
                       error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except BaseException as e:  # noqa: BLE001 — the test reads what went wrong from stdout
        report(step="failed", error=f"{type(e).__name__}: {e}")
