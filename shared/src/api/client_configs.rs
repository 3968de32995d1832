//! The ready-to-paste configurations returned with a new token, one per MCP client.

use serde_json::{json, Value};

use crate::model::token::Token;

/// Keyed `cursor`, `windsurf`, `claude_desktop`, `vscode`, `claude_code`; and, where MCP
/// authorization is on (`by_url`), `claude_connector` and `chatgpt_connector`: the URL
/// those add as a custom connector, signing in instead of pasting the token.
pub fn client_configs(mcp_url: &str, token: &Token, by_url: bool) -> Value {
    let bearer = format!("Bearer {}", token.expose());
    let headers = json!({ "Authorization": bearer });
    let mut configs = json!({
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
    });
    if let (true, Some(configs)) = (by_url, configs.as_object_mut()) {
        configs.insert("claude_connector".into(), mcp_url.into());
        configs.insert("chatgpt_connector".into(), mcp_url.into());
    }
    configs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_url_and_the_bearer_token() {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let configs = client_configs("https://x.lambda-url.eu-west-1.on.aws/mcp", &token, false);
        assert!(
            configs.get("claude_connector").is_none(),
            "no OAuth, no connector"
        );
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

    #[test]
    fn with_mcp_authorization_the_connectors_get_the_url_and_never_the_token() {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let url = "https://x.lambda-url.eu-west-1.on.aws/mcp";
        let configs = client_configs(url, &token, true);
        for key in ["claude_connector", "chatgpt_connector"] {
            assert_eq!(configs[key], url, "{key}");
        }
    }
}
