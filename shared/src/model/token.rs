//! The MCP token itself: `kmcp_` + 40 random base62 characters + a 6-character base62
//! CRC32 of everything before it. The checksum lets the server tell a truncated, padded or
//! mistyped token apart from an unknown one without touching the database.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};

pub const PREFIX: &str = "kmcp_";
const RANDOM_LEN: usize = 40;
const CHECKSUM_LEN: usize = 6;
/// The prefix and the randomness: what the checksum covers.
const BODY_LEN: usize = PREFIX.len() + RANDOM_LEN;
/// 51: the prefix, the randomness and the checksum.
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A well-formed token (its checksum matched). Deliberately not `Debug`-printable as
/// the secret, so it cannot end up in a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.hint())
    }
}

/// Why a string is not a token; each message tells a person what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no token was given — paste the whole token, starting with kmcp_")]
    Missing,
    #[error("this is not a Knotie MCP token — tokens start with kmcp_")]
    WrongPrefix,
    #[error("the token is incomplete — copy the whole token (it is 51 characters long)")]
    Truncated,
    #[error("the token has extra characters — copy exactly the token, nothing before or after it")]
    Padded,
    #[error("the token contains characters that are never part of a token — copy it again")]
    InvalidCharacter,
    #[error("the token is mistyped (its checksum does not match) — copy it again")]
    ChecksumMismatch,
}

impl Token {
    /// A fresh token from the system's secure random generator.
    pub fn generate(rng: &SystemRandom) -> Result<Token, ring::error::Unspecified> {
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(PREFIX);
        let mut bytes = [0u8; 64];
        while token.len() < BODY_LEN {
            rng.fill(&mut bytes)?;
            // Rejection sampling keeps every character equally likely: 248 = 4 × 62.
            for &b in bytes.iter().filter(|&&b| b < 248) {
                if token.len() == BODY_LEN {
                    break;
                }
                token.push(digit(u32::from(b)));
            }
        }
        token.push_str(&checksum(&token));
        Ok(Token(token))
    }

    /// Checks a string that claims to be a token: format first, then checksum, so a
    /// damaged token gets a precise message before any database lookup.
    pub fn parse(s: &str) -> Result<Token, TokenError> {
        if s.is_empty() {
            return Err(TokenError::Missing);
        }
        let Some(rest) = s.strip_prefix(PREFIX) else {
            return Err(TokenError::WrongPrefix);
        };
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            // Whitespace or quotes around a token pasted whole read as padding.
            let trimmed = rest.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            return Err(
                if trimmed.len() >= RANDOM_LEN + CHECKSUM_LEN
                    && trimmed.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    TokenError::Padded
                } else {
                    TokenError::InvalidCharacter
                },
            );
        }
        match s.len().cmp(&TOKEN_LEN) {
            std::cmp::Ordering::Less => Err(TokenError::Truncated),
            std::cmp::Ordering::Greater => Err(TokenError::Padded),
            std::cmp::Ordering::Equal => {
                let (body, sum) = s.split_at(TOKEN_LEN - CHECKSUM_LEN);
                if checksum(body) == sum {
                    Ok(Token(s.to_owned()))
                } else {
                    Err(TokenError::ChecksumMismatch)
                }
            }
        }
    }

    /// The secret itself: only for hashing and for the one generate response.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What lists show: `kmcp_…` and the last four characters.
    pub fn hint(&self) -> String {
        format!("{PREFIX}…{}", &self.0[TOKEN_LEN - 4..])
    }
}

/// The base62 digit of `n % 62`.
fn digit(n: u32) -> char {
    let i = usize::try_from(n % 62).unwrap_or(0);
    ALPHABET.get(i).map_or('0', |&b| char::from(b))
}

/// CRC32 (IEEE, as zlib computes it) in base62, most significant digit first, 6 digits.
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for d in digits.iter_mut().rev() {
        *d = digit(n) as u8;
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Token {
        Token::generate(&SystemRandom::new()).unwrap()
    }

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let t = fresh();
        let s = t.expose();
        assert_eq!(s.len(), 51);
        assert!(s.starts_with("kmcp_"));
        assert!(s[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(Token::parse(s), Ok(t));
    }

    #[test]
    fn generated_tokens_differ() {
        assert_ne!(fresh(), fresh());
    }

    #[test]
    fn checksum_matches_vectors_computed_with_python_zlib() {
        // Computed independently: zlib.crc32(body) written in base62, 6 digits.
        for vector in [
            "kmcp_000000000000000000000000000000000000000001W9ct",
            "kmcp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd22kIYR",
        ] {
            assert_eq!(checksum(&vector[..45]), &vector[45..]);
            assert!(Token::parse(vector).is_ok());
        }
    }

    #[test]
    fn truncated_token_is_reported_as_incomplete() {
        let t = fresh();
        assert_eq!(Token::parse(&t.expose()[..50]), Err(TokenError::Truncated));
        assert_eq!(Token::parse(&t.expose()[..20]), Err(TokenError::Truncated));
    }

    #[test]
    fn padded_token_is_reported_as_extra_characters() {
        let t = fresh();
        assert_eq!(
            Token::parse(&format!("{}x", t.expose())),
            Err(TokenError::Padded)
        );
        assert_eq!(
            Token::parse(&format!("{} ", t.expose())),
            Err(TokenError::Padded)
        );
        assert_eq!(
            Token::parse(&format!("{}\"", t.expose())),
            Err(TokenError::Padded)
        );
    }

    #[test]
    fn one_changed_character_fails_the_checksum() {
        let t = fresh();
        let mut s = t.expose().to_owned();
        let c = if &s[10..11] == "a" { "b" } else { "a" };
        s.replace_range(10..11, c);
        assert_eq!(Token::parse(&s), Err(TokenError::ChecksumMismatch));
    }

    #[test]
    fn other_strings_are_told_apart() {
        assert_eq!(Token::parse(""), Err(TokenError::Missing));
        assert_eq!(Token::parse("sk-abc"), Err(TokenError::WrongPrefix));
        assert_eq!(
            Token::parse("kmcp_abc-def"),
            Err(TokenError::InvalidCharacter)
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let t = fresh();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.expose()[5..45]));
        assert!(shown.contains(&t.hint()));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_string_parses_or_is_refused_without_panicking(s in ".{0,80}") {
                if let Ok(token) = Token::parse(&s) {
                    prop_assert_eq!(token.expose(), s.as_str());
                    prop_assert_eq!(s.len(), TOKEN_LEN);
                    prop_assert_eq!(checksum(&s[..BODY_LEN]), &s[BODY_LEN..]);
                }
            }

            #[test]
            fn every_single_character_change_is_caught(i in 5..TOKEN_LEN, c in "[0-9A-Za-z]") {
                let token = Token::generate(&SystemRandom::new()).unwrap();
                let mut s = token.expose().to_owned();
                prop_assume!(s[i..=i] != c);
                s.replace_range(i..=i, &c);
                prop_assert_eq!(Token::parse(&s), Err(TokenError::ChecksumMismatch));
            }

            #[test]
            fn cut_or_extended_tokens_say_so(cut in 6..TOKEN_LEN, extra in "[0-9A-Za-z]{1,20}") {
                let token = Token::generate(&SystemRandom::new()).unwrap();
                prop_assert_eq!(Token::parse(&token.expose()[..cut]), Err(TokenError::Truncated));
                let padded = format!("{}{extra}", token.expose());
                prop_assert_eq!(Token::parse(&padded), Err(TokenError::Padded));
            }
        }
    }
}
