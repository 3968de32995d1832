//! Who is calling the management API: taken only from the claims that API Gateway's JWT
//! authorizer verified, never from a header the caller controls.

use std::fmt;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::error::Error;

/// An account id as it appears in keys; `#` is the key separator so it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Option<AccountId> {
        let ok =
            (1..=128).contains(&s.len()) && s.chars().all(|c| c.is_ascii_graphic() && c != '#');
        ok.then(|| AccountId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signed-in user and the account they act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: AccountId,
    pub user: String,
}

impl Identity {
    /// Reads `sub` and the account claim (its name is configuration) from the JWT
    /// authorizer's context. A request without them is unauthenticated.
    pub fn from_request(req: &Request, account_claim: &str) -> Result<Identity, Error> {
        let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
            return Err(Error::Unauthenticated);
        };
        let claims = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(Error::Unauthenticated)?;
        let user = claims.get("sub").filter(|s| !s.is_empty());
        let account = claims.get(account_claim).and_then(|a| AccountId::parse(a));
        match (user, account) {
            (Some(user), Some(account)) => Ok(Identity {
                account,
                user: user.clone(),
            }),
            _ => Err(Error::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_with_key_separators_or_spaces_are_refused() {
        assert!(AccountId::parse("acct_demo").is_some());
        assert!(AccountId::parse("acct#demo").is_none());
        assert!(AccountId::parse("acct demo").is_none());
        assert!(AccountId::parse("").is_none());
    }

    #[test]
    fn request_without_authorizer_context_is_unauthenticated() {
        let err = Identity::from_request(&Request::default(), "custom:account_id").unwrap_err();
        assert!(matches!(err, Error::Unauthenticated));
    }
}
