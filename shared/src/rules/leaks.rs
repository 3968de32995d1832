//! Leaked tokens: a report from GitHub's secret scanning (tokens found in public
//! repositories, gists, packages), or anyone holding a token asking for it to be killed.
//! Each token of ours still live is revoked, its history saying why and where; the
//! checksum drops random matches without a database read, and reads and writes are
//! batched so a 1,000-match report stays well inside a Lambda's time.

use std::collections::BTreeMap;

use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::model::admission;
use crate::model::events::{Revocation, RevokedReason};
use crate::model::hashing::{hex, Pepper, TokenHash};
use crate::model::time::Timestamp;
use crate::model::token::Token;
use crate::model::tokens::Grant;
use crate::store::Store;

/// GitHub sends at most 1,000 matches in one request.
pub const MAX_MATCHES: usize = 1_000;
/// A holder may report up to this many tokens at once.
pub const MAX_CREDENTIALS: usize = 100;
/// Revocations run this many at a time.
const PARALLEL_REVOKES: usize = 16;

/// One match of a report; any field may be missing or odd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub token: String,
    pub kind: String,
    pub url: String,
    pub source: String,
}

/// What we answer for a match: never the token, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub token_hash: String,
    pub token_type: String,
    pub label: &'static str,
}

/// A report's body: a JSON array of matches (1 to 1,000). An entry that is not a match
/// is kept, as a false positive, so every entry gets its label.
pub fn parse_report(body: &[u8]) -> Result<Vec<Match>, Error> {
    let entries: Vec<Value> = serde_json::from_slice(body).map_err(|_| {
        Error::bad_request(
            "invalid_body",
            r#"the body must be a JSON array of matches like [{"token": "…", "type": "…", "url": "…", "source": "…"}]"#,
        )
    })?;
    if entries.is_empty() || entries.len() > MAX_MATCHES {
        return Err(Error::bad_request(
            "invalid_body",
            format!("a report holds 1 to {MAX_MATCHES} matches"),
        ));
    }
    let text = |v: &Value, field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(entries
        .iter()
        .map(|e| Match {
            token: text(e, "token"),
            kind: text(e, "type"),
            url: text(e, "url"),
            source: text(e, "source"),
        })
        .collect())
}

/// Revokes every live token of ours in the report (reason `leaked`, with where it was
/// found) and labels each match: ours (live, revoked or expired) or not.
pub async fn github_report(
    store: &Store,
    pepper: &Pepper,
    matches: &[Match],
    now: Timestamp,
) -> Result<Vec<Label>, Error> {
    let hashes: Vec<Option<TokenHash>> = matches
        .iter()
        .map(|m| Token::parse(&m.token).ok().map(|t| pepper.hash(&t)))
        .collect();
    let grants = find(store, hashes.iter().flatten()).await?;
    let mut revocations = BTreeMap::new();
    for (m, hash) in matches.iter().zip(&hashes) {
        if let Some(grant) = hash.as_ref().and_then(|h| grants.get(h.as_str())) {
            revocations
                .entry(grant.token_id.to_string())
                .or_insert_with(|| {
                    let leak = Revocation {
                        reason: RevokedReason::Leaked,
                        by: None,
                        url: Some(m.url.clone()).filter(|u| !u.is_empty()),
                        source: Some(m.source.to_lowercase()).filter(|s| !s.is_empty()),
                    };
                    (grant.clone(), leak)
                });
        }
    }
    revoke_live(store, revocations.into_values().collect(), now).await?;
    Ok(matches
        .iter()
        .zip(&hashes)
        .map(|(m, hash)| Label {
            token_hash: sha256_hex(&m.token),
            token_type: m.kind.clone(),
            label: match hash
                .as_ref()
                .is_some_and(|h| grants.contains_key(h.as_str()))
            {
                true => "true_positive",
                false => "false_positive",
            },
        })
        .collect())
}

/// A holder's report: `{"credentials": ["kmcp_…", …]}` (1 to 100).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    credentials: Vec<String>,
}

pub fn parse_credentials(body: &[u8]) -> Result<Vec<String>, Error> {
    let parsed: Credentials = serde_json::from_slice(body).map_err(|_| {
        Error::bad_request(
            "invalid_body",
            r#"the body must be JSON like {"credentials": ["kmcp_…"]}"#,
        )
    })?;
    if parsed.credentials.is_empty() || parsed.credentials.len() > MAX_CREDENTIALS {
        return Err(Error::bad_request(
            "invalid_body",
            format!("credentials must list 1 to {MAX_CREDENTIALS} tokens"),
        ));
    }
    Ok(parsed.credentials)
}

/// Revokes each live token of ours among `credentials` (reason `reported_by_holder`);
/// says nothing to the reporter of which were ours, and returns how many were live (for
/// the operators' metrics).
pub async fn holder_report(
    store: &Store,
    pepper: &Pepper,
    credentials: &[String],
    now: Timestamp,
) -> Result<usize, Error> {
    let hashes: Vec<TokenHash> = credentials
        .iter()
        .filter_map(|c| Token::parse(c.trim()).ok())
        .map(|t| pepper.hash(&t))
        .collect();
    let grants = find(store, hashes.iter()).await?;
    let reported = Revocation {
        reason: RevokedReason::ReportedByHolder,
        by: None,
        url: None,
        source: None,
    };
    let found = grants.values().filter(|g| is_live(g, now)).count();
    let revocations = grants
        .into_values()
        .map(|g| (g, reported.clone()))
        .collect();
    revoke_live(store, revocations, now).await?;
    Ok(found)
}

/// Our tokens among the hashes, by hash.
async fn find<'a>(
    store: &Store,
    hashes: impl Iterator<Item = &'a TokenHash>,
) -> Result<BTreeMap<String, Grant>, Error> {
    let mut unique: Vec<TokenHash> = hashes.cloned().collect();
    unique.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    unique.dedup();
    if unique.is_empty() {
        return Ok(BTreeMap::new());
    }
    let grants = store.find_tokens(&unique).await?;
    Ok(grants
        .into_iter()
        .map(|g| (g.hash.as_str().to_owned(), g))
        .collect())
}

/// The tokens a report should revoke: ours and still live (revoked and expired ones
/// stay as they are).
fn live(grants: Vec<(Grant, Revocation)>, now: Timestamp) -> Vec<(Grant, Revocation)> {
    grants
        .into_iter()
        .filter(|(g, _)| is_live(g, now))
        .collect()
}

/// Live by the token's own items: a report reads no policy (revoking a token the policy
/// already ended is harmless).
fn is_live(grant: &Grant, now: Timestamp) -> bool {
    admission::standing(grant.life(), None, now).is_live()
}

/// Revokes, a few at a time; one that was revoked meanwhile is left as it is.
async fn revoke_live(
    store: &Store,
    grants: Vec<(Grant, Revocation)>,
    now: Timestamp,
) -> Result<(), Error> {
    let grants = live(grants, now);
    if grants.is_empty() {
        return Ok(());
    }
    let only: Vec<Grant> = grants.iter().map(|(g, _)| g.clone()).collect();
    let records = store.tokens_of(&only).await?;
    for chunk in grants.chunks(PARALLEL_REVOKES) {
        let mut tasks = tokio::task::JoinSet::new();
        for (grant, revocation) in chunk {
            let Some(record) = records.iter().find(|r| r.id == grant.token_id).cloned() else {
                continue;
            };
            let (store, revocation) = (store.clone(), revocation.clone());
            tasks.spawn(async move { store.revoke_token(&record, &revocation, now).await });
        }
        for result in tasks.join_all().await {
            // Refused: revoked (or retired) meanwhile, which is what was wanted.
            result?;
        }
    }
    Ok(())
}

fn sha256_hex(token: &str) -> String {
    hex(digest(&SHA256, token.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_sha256_of_the_match_as_sent() {
        // python3 -c "import hashlib;print(hashlib.sha256(b'some_token').hexdigest())"
        assert_eq!(
            sha256_hex("some_token"),
            "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a"
        );
    }

    #[test]
    fn only_live_tokens_are_revoked_by_a_report() {
        let at = |s| Timestamp::from_unix(s).unwrap();
        let token = Token::parse("kmcp_000000000000000000000000000000000000000001W9ct").unwrap();
        let grant = |expires_at: Option<i64>, revoked: bool| Grant {
            account: crate::model::ids::AccountId::parse("acct_a").unwrap(),
            token_id: crate::model::ids::TokenId::new(at(0)).unwrap(),
            hash: Pepper::new(&[1; 32]).unwrap().hash(&token),
            scopes: crate::model::scope::Scopes::all(),
            creator_role: crate::model::roles::Role::Owner,
            created_at: at(0),
            expires_at: expires_at.map(at),
            allowed_ips: None,
            revoked,
            revoked_reason: None,
            leak_url: None,
            last_used_at: None,
            replacement: None,
            replaces: None,
            connected: false,
        };
        let reported = Revocation {
            reason: RevokedReason::Leaked,
            by: None,
            url: None,
            source: None,
        };
        let grants = vec![
            (grant(None, false), reported.clone()),
            (grant(Some(2_000), false), reported.clone()),
            (grant(Some(500), false), reported.clone()),
            (grant(None, true), reported),
        ];
        assert_eq!(live(grants, at(1_000)).len(), 2);
    }

    #[test]
    fn every_entry_of_a_report_is_kept_odd_ones_included() {
        let body = br#"[{"token": "kmcp_x", "type": "t", "url": "", "source": "Content"}, 5, {"type": 3}]"#;
        let matches = parse_report(body).unwrap();
        assert_eq!(matches.len(), 3);
        assert_eq!(matches[0].source, "Content");
        assert_eq!(matches[1].token, "");
        for bad in [&b"{}"[..], b"[]", b"not json"] {
            assert_eq!(parse_report(bad).unwrap_err().status(), 400);
        }
        let many = format!("[{}]", vec!["{}"; MAX_MATCHES + 1].join(","));
        assert!(parse_report(many.as_bytes()).is_err());
    }

    #[test]
    fn a_holders_report_lists_one_to_a_hundred_tokens() {
        assert_eq!(
            parse_credentials(br#"{"credentials": ["a"]}"#).unwrap(),
            ["a"]
        );
        for bad in [
            &br#"{"credentials": []}"#[..],
            br#"{"credentials": "a"}"#,
            br#"{"tokens": ["a"]}"#,
            b"[]",
        ] {
            assert_eq!(parse_credentials(bad).unwrap_err().status(), 400);
        }
    }
}
