"""mcp-remote, the stdio bridge Claude Desktop uses, launched the way the generated Claude
Desktop configuration launches it, and spoken to over stdio as Claude Desktop would.

usage: mcp_remote.py MCP_REMOTE_BIN URL TOKEN [refused] — prints one JSON object per answer.
With `refused` (a token the server refuses), prints how mcp-remote ended instead: its exit
code, the last lines it wrote, and whether it asked anyone to authorize in a browser.
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading

binary, url, token = sys.argv[1:4]
refused = sys.argv[4:5] == ["refused"]
home = tempfile.mkdtemp()
# As in client_configs.claude_desktop: the header comes from an env var mcp-remote expands.
env = dict(os.environ, AUTH_HEADER=f"Bearer {token}", HOME=home, MCP_REMOTE_CONFIG_DIR=home)
process = subprocess.Popen(
    [binary, url, "--header", "Authorization:${AUTH_HEADER}", "--transport", "http-only"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, bufsize=1,
)
lines = queue.Queue()
threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
stderr = []
threading.Thread(target=lambda: [stderr.append(line) for line in process.stderr], daemon=True).start()


def send(message):
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


def answer(want):
    while True:
        try:
            message = json.loads(lines.get(timeout=60))
        except queue.Empty:
            sys.exit("no answer from mcp-remote:\n" + "".join(stderr[-30:]))
        if message.get("id") == want:
            return message


if refused:
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "claude-desktop-test", "version": "0"}}})
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        code = None
    text = "".join(stderr)
    print(json.dumps({"step": "ended", "exit": code, "asked_to_authorize": "Please authorize" in text,
                      "last": stderr[-3:]}), flush=True)
    sys.exit(0)

try:
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "claude-desktop-test", "version": "0"}}})
    print(json.dumps({"step": "initialize", "message": answer(1)}), flush=True)
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    print(json.dumps({"step": "tools", "message": answer(2)}), flush=True)
    for n, (name, args) in enumerate([("get_account", {}), ("list_agents", {"limit": 2}), ("get_usage_analytics", {})], 3):
        send({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": name, "arguments": args}})
        print(json.dumps({"step": "call", "tool": name, "message": answer(n)}), flush=True)
finally:
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
