//! The ready-to-paste configurations returned with a new token, one per MCP client.

use serde_json::{json, Value};

use crate::model::token::Token;

/// Keyed `cursor`, `windsurf`, `claude_desktop`, `vscode`, `claude_code`.
pub fn client_configs(mcp_url: &str, token: &Token) -> Value {
    let bearer = format!("Bearer {}", token.expose());
    let headers = json!({ "Authorization": bearer });
    json!({
        "cursor": { "mcpServers": { "knotie": { "url": mcp_url, "headers": headers } } },
        "windsurf": { "mcpServers": { "knotie": { "serverUrl": mcp_url, "headers": headers } } },
        // Claude Desktop speaks stdio only: mcp-remote bridges it. The header goes through
        // an env var because some launchers split arguments on spaces.
        "claude_desktop": { "mcpServers": { "knotie": {
            "command": "npx",
            "args": ["-y", "mcp-remote", mcp_url, "--header", "Authorization:${AUTH_HEADER}"],
            "env": { "AUTH_HEADER": bearer },
        } } },
        "vscode": { "servers": { "knotie": { "type": "http", "url": mcp_url, "headers": headers } } },
        "claude_code": format!("claude mcp add --transport http knotie {mcp_url} --header \"Authorization: {bearer}\""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_url_and_the_bearer_token() {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let configs = client_configs("https://x.lambda-url.eu-west-1.on.aws/mcp", &token);
        for key in [
            "cursor",
            "windsurf",
            "claude_desktop",
            "vscode",
            "claude_code",
        ] {
            let text = configs[key].to_string();
            assert!(
                text.contains("https://x.lambda-url.eu-west-1.on.aws/mcp"),
                "{key}"
            );
            assert!(
                text.contains(&format!("Bearer {}", token.expose())),
                "{key}"
            );
        }
        let args = configs["claude_desktop"]["mcpServers"]["knotie"]["args"]
            .as_array()
            .unwrap();
        assert!(
            args.iter().all(|a| !a.as_str().unwrap().contains(' ')),
            "no spaces in args"
        );
    }
}
