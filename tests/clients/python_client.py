"""The official Python MCP SDK (PyPI `mcp`) against the endpoint, as a user's script would.

usage: python_client.py URL TOKEN MODE   (MODE: auto = 2026-07-28 via server/discover, legacy = initialize)

Prints one JSON object per step on stdout. After three tool calls it prints
{"step": "waiting"} and waits for a line on stdin (the test revokes the token meanwhile),
then calls again and reports how that call failed.
"""
import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def report(**fields):
    print(json.dumps(fields), flush=True)


async def main(url: str, token: str, mode: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            report(step="connected", protocol=str(client.protocol_version), server=client.server_info.name)
            tools = await client.list_tools()
            report(step="tools", names=[t.name for t in tools.tools])
            for name, args in [
                ("get_account", {}),
                ("get_usage_analytics", {"group_by": "agent"}),
                ("list_customers", {"limit": 3}),
            ]:
                result = await client.call_tool(name, args)
                report(step="call", tool=name, is_error=bool(result.is_error), structured=result.structured_content)
            report(step="waiting")
            sys.stdin.readline()
            try:
                result = await client.call_tool("get_account", {})
                report(step="after_revoke", refused=False, is_error=bool(result.is_error))
            except Exception as e:  # the SDK raises on a 401
                report(step="after_revoke", refused=True, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
