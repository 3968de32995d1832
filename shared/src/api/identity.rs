//! Who is calling the management API: taken only from the claims that API Gateway's JWT
//! authorizer verified, never from a header the caller controls.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::config::Config;
use crate::error::Error;
use crate::model::ids::AccountId;
use crate::model::roles::{Identity, Role};

impl Identity {
    /// Reads `sub`, the account claim and the role claim (their names are configuration)
    /// from the JWT authorizer's context. A request without a user or an account is
    /// unauthenticated; one without a role is a member's.
    pub fn from_request(req: &Request, config: &Config) -> Result<Identity, Error> {
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
        let account = claims
            .get(&config.account_claim)
            .and_then(|a| AccountId::parse(a));
        match (user, account) {
            (Some(user), Some(account)) => Ok(Identity {
                account,
                user: user.clone(),
                role: Role::from_claim(claims.get(&config.role_claim).map(String::as_str)),
            }),
            _ => Err(Error::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_without_authorizer_context_is_unauthenticated() {
        let err = Identity::from_request(&Request::default(), &Config::default()).unwrap_err();
        assert!(matches!(err, Error::Unauthenticated));
    }
}
