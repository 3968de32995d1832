//! Signed-in users of an account, as the JWT authorizer presents them: every management
//! route through its sample event, with the user's `sub` and role claims.

use http::StatusCode;
use knotie::model::ids::AccountId;
use knotie::App;
use serde_json::{json, Value};

use super::{reply, request, Reply};

/// A signed-in user of `account`: their `sub` and `custom:role` claims.
pub struct User<'a> {
    pub app: &'a App,
    pub account: AccountId,
    pub sub: &'a str,
    pub role: Option<&'a str>,
}

impl User<'_> {
    pub fn event(&self, name: &str) -> Value {
        let mut event = super::event(name, &self.account);
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["sub"] = self.sub.into();
        match self.role {
            Some(role) => claims["custom:role"] = role.into(),
            None => {
                claims.as_object_mut().unwrap().remove("custom:role");
            }
        }
        event
    }

    pub fn at(&self, name: &str, id: &str, suffix: &str) -> Value {
        let mut event = self.event(name);
        let path = format!("/mcp-tokens/{id}{suffix}");
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"] = json!({ "id": id });
        event
    }

    pub async fn generate(&self, body: Value) -> Reply {
        let mut event = self.event("generate.json");
        event["body"] = body.to_string().into();
        reply(knotie::api::generate(self.app, request(&event)).await).await
    }

    pub async fn generated_id(&self, name: &str) -> String {
        let (status, body) = self.generate(json!({ "name": name })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// The list's first page, as the page asks for it (active tokens).
    pub async fn list(&self) -> Reply {
        self.list_with(&[]).await
    }

    /// The list with these query parameters.
    pub async fn list_with(&self, params: &[(&str, &str)]) -> Reply {
        let mut event = self.event("list.json");
        super::with_query(&mut event, params);
        reply(knotie::api::list(self.app, request(&event)).await).await
    }

    /// `POST /mcp-tokens/{id}/rotate` with `body`.
    pub async fn rotate(&self, id: &str, body: Value) -> Reply {
        let mut event = self.at("rotate.json", id, "/rotate");
        event["body"] = match body {
            Value::Null => "".into(),
            body => body.to_string().into(),
        };
        reply(knotie::api::issues(self.app, request(&event)).await).await
    }

    /// The names of every token this user sees, active or not.
    pub async fn listed_names(&self) -> Vec<String> {
        let (status, body) = self.list_with(&[("status", "all")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut names: Vec<String> = body["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    pub async fn revoke(&self, id: &str) -> Reply {
        let event = self.at("revoke.json", id, "");
        reply(knotie::api::revoke(self.app, request(&event)).await).await
    }

    pub async fn history(&self, id: &str) -> Reply {
        let event = self.at("token-events.json", id, "/events");
        reply(knotie::api::reads(self.app, request(&event)).await).await
    }

    pub async fn revoke_user(&self, user: &str) -> Reply {
        let mut event = self.event("revoke-user.json");
        event["body"] = json!({ "user": user }).to_string().into();
        reply(knotie::api::revokes(self.app, request(&event)).await).await
    }

    pub async fn policy(&self) -> Reply {
        let event = self.event("policy-get.json");
        reply(knotie::api::policy(self.app, request(&event)).await).await
    }

    pub async fn set_policy(&self, policy: Value) -> Reply {
        let mut event = self.event("policy-put.json");
        event["body"] = policy.to_string().into();
        reply(knotie::api::policy(self.app, request(&event)).await).await
    }

    /// A new token's secret, made through the API.
    pub async fn token(&self, body: Value) -> String {
        let (status, created) = self.generate(body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["token"].as_str().unwrap().to_owned()
    }
}
