//! The pepper and what it keys: the stored HMAC-SHA256 of every token, and the MAC that
//! makes list cursors tamper-proof and bound to one account.

use std::fmt;

use ring::hmac;

use super::token::Token;

/// Shorter secrets are refused: the pepper is what keeps a leaked table useless.
const MIN_PEPPER_LEN: usize = 32;

/// The server-side secret mixed into every token hash. Never printed.
#[derive(Clone)]
pub struct Pepper {
    tokens: hmac::Key,
    cursors: hmac::Key,
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(…)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the pepper must be at least {MIN_PEPPER_LEN} bytes long")]
pub struct PepperTooShort;

impl Pepper {
    pub fn new(secret: &[u8]) -> Result<Pepper, PepperTooShort> {
        if secret.len() < MIN_PEPPER_LEN {
            return Err(PepperTooShort);
        }
        let tokens = hmac::Key::new(hmac::HMAC_SHA256, secret);
        // A separate key for cursors, so a cursor MAC can never double as a token hash.
        let cursor_secret = hmac::sign(&tokens, b"knotie/list-cursor/v1");
        let cursors = hmac::Key::new(hmac::HMAC_SHA256, cursor_secret.as_ref());
        Ok(Pepper { tokens, cursors })
    }

    /// What the store keeps instead of the token: lowercase hex HMAC-SHA256.
    pub fn hash(&self, token: &Token) -> TokenHash {
        TokenHash(hex(
            hmac::sign(&self.tokens, token.expose().as_bytes()).as_ref()
        ))
    }

    pub(crate) fn sign_cursor(&self, message: &[u8]) -> hmac::Tag {
        hmac::sign(&self.cursors, message)
    }

    /// Constant-time check of a cursor's MAC.
    pub(crate) fn verify_cursor(&self, message: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.cursors, message, tag).is_ok()
    }
}

/// HMAC-SHA256(pepper, token), hex: the lookup key of a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A hash as the store keeps it.
    pub(crate) fn from_stored(s: String) -> TokenHash {
        TokenHash(s)
    }

    /// What the rate limiter counts this token's calls from `from` under when its
    /// allowlist refuses them: apart from the token's own count, so that whoever holds a
    /// leaked pinned token cannot use up its owner's quota from elsewhere.
    pub fn from_elsewhere(&self, from: Option<std::net::IpAddr>) -> TokenHash {
        match from {
            Some(ip) => TokenHash(format!("{}@{}", self.0, ip.to_canonical())),
            None => TokenHash(format!("{}@", self.0)),
        }
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(
        String::with_capacity(bytes.len().saturating_mul(2)),
        |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn hash_is_hmac_sha256_of_the_token_in_hex() {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let hash = Pepper::new(SECRET).unwrap().hash(&token);
        // python3 -c "import hmac,hashlib;print(hmac.new(b'0123456789abcdef0123456789abcdef',
        //   b'kmcp_000000000000000000000000000000000000000001W9ct', hashlib.sha256).hexdigest())"
        assert_eq!(hash.as_str(), HASH_OF_ZERO_TOKEN);
    }

    const HASH_OF_ZERO_TOKEN: &str =
        "67b132e2a77087690efe67c312fde199c04341faeba27650a489ad4b68ae60c0";

    #[test]
    fn different_peppers_give_different_hashes() {
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let a = Pepper::new(SECRET).unwrap().hash(&token);
        let b = Pepper::new(b"another pepper, long enough for the rule")
            .unwrap()
            .hash(&token);
        assert_ne!(a, b);
    }

    #[test]
    fn short_pepper_is_refused() {
        assert!(Pepper::new(b"short").is_err());
    }

    #[test]
    fn cursor_mac_verifies_only_its_own_message() {
        let pepper = Pepper::new(SECRET).unwrap();
        let tag = pepper.sign_cursor(b"acct_a/tok_1");
        assert!(pepper.verify_cursor(b"acct_a/tok_1", tag.as_ref()));
        assert!(!pepper.verify_cursor(b"acct_b/tok_1", tag.as_ref()));
    }
}
