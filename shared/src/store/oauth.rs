//! MCP authorization's items: registered clients (and how many each source registered
//! this hour), authorization codes and refresh tokens, each keyed by its HMAC like a
//! token and removed by DynamoDB's TTL once it can no longer be used. A grant itself is a
//! token's items ([`super::tokens`]): exchanging a code writes them, with the code marked
//! used, in one transaction; a refresh replaces the grant's access token and refresh
//! token in one transaction too, so that at any moment exactly one of each works.

use aws_sdk_dynamodb::types::Update;

use super::item::{corrupt, flag, n, s, time, Item, ItemExt};
use super::ops::{collided, Condition, Write};
use super::tokens::lookup_item;
use super::{internal, keys, Store, Written};
use crate::error::Error;
use crate::model::hashing::TokenHash;
use crate::model::ids::{AccountId, TokenId};
use crate::model::oauth::{
    Client, Code, CodeChallenge, RedirectUri, Refresh, Registration, REFRESH_LIFETIME,
    UNUSED_CLIENT_LIFETIME,
};
use crate::model::roles::Role;
use crate::model::scope::Scopes;
use crate::model::time::Timestamp;
use crate::model::tokens::TokenRecord;

/// What exchanging a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchanged {
    /// The grant is written, its code spent.
    Granted,
    /// The code was exchanged before: nothing written.
    CodeSpent,
    /// The account holds as many tokens as it may.
    AtLimit,
}

impl Store {
    /// Registers a client, unless `source` registered `per_hour` already this hour. The
    /// registration expires unless it is used ([`Store::put_code`] keeps it).
    pub async fn register_client(
        &self,
        id: &str,
        registration: &Registration,
        source: &str,
        per_hour: u32,
        now: Timestamp,
    ) -> Result<Written, Error> {
        let hour = now.rfc3339().get(..13).unwrap_or_default().to_owned();
        let count = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::registrations(source)))
            .key(keys::SK, s(keys::registrations_hour(&hour)))
            .update_expression(
                "SET registered = if_not_exists(registered, :zero) + :one, #ttl = :ttl",
            )
            .condition_expression("attribute_not_exists(registered) OR registered < :limit")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(per_hour))
            .expression_attribute_values(":ttl", n(ttl(now, time::Duration::hours(2))))
            .build()
            .map_err(internal)?;
        let client = Item::from([
            (keys::PK.into(), s(keys::oauth_client(id))),
            (keys::SK.into(), s(keys::OAUTH_CLIENT_SK)),
            ("client_name".into(), s(&registration.name)),
            (
                "redirect_uris".into(),
                aws_sdk_dynamodb::types::AttributeValue::L(
                    registration
                        .redirect_uris
                        .iter()
                        .map(|u| s(u.as_str()))
                        .collect(),
                ),
            ),
            ("registered_at".into(), time(now)),
            (keys::TTL.into(), n(ttl(now, UNUSED_CLIENT_LIFETIME))),
        ]);
        let items = vec![
            Write::update(Condition::UnderLimit, count),
            self.create_op(client)?,
        ];
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(Condition::UnderLimit) => Ok(Written::Refused),
            Some(other) => Err(collided(other)),
        }
    }

    /// A registered client, unless it expired unused.
    pub async fn client(&self, id: &str, now: Timestamp) -> Result<Option<Client>, Error> {
        let Some(item) = self
            .get(keys::oauth_client(id), keys::OAUTH_CLIENT_SK.into())
            .await?
        else {
            return Ok(None);
        };
        // DynamoDB's TTL removes items within days of their time, not at it.
        if item.opt_int(keys::TTL).is_some_and(|t| t <= unix(now)) {
            return Ok(None);
        }
        let redirect_uris = item
            .strings("redirect_uris")
            .iter()
            .map(|u| RedirectUri::parse(u).map_err(|_| corrupt("redirect_uris")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Client {
            id: id.to_owned(),
            name: item.string("client_name")?,
            redirect_uris,
        }))
    }

    /// Keeps an authorization code until its exchange; a registered client it was issued
    /// to is kept for another [`UNUSED_CLIENT_LIFETIME`].
    pub async fn put_code(
        &self,
        hash: &TokenHash,
        code: &Code,
        registered: bool,
        now: Timestamp,
    ) -> Result<(), Error> {
        let item = Item::from([
            (keys::PK.into(), s(keys::oauth_code(hash))),
            (keys::SK.into(), s(keys::OAUTH_CODE_SK)),
            ("account".into(), s(code.account.as_str())),
            ("user".into(), s(&code.user)),
            ("role".into(), s(code.role.as_str())),
            ("client_id".into(), s(&code.client_id)),
            ("client_name".into(), s(&code.client_name)),
            ("redirect_uri".into(), s(&code.redirect_uri)),
            ("code_challenge".into(), s(code.challenge.as_str())),
            (
                "scopes".into(),
                aws_sdk_dynamodb::types::AttributeValue::L(
                    code.scopes.iter().map(|sc| s(sc.as_str())).collect(),
                ),
            ),
            ("expires_at".into(), time(code.expires_at)),
            // Kept a day past its use: a second exchange within it ends the grant.
            (keys::TTL.into(), n(ttl(now, time::Duration::days(1)))),
        ]);
        let mut items = vec![self.create_op(item)?];
        if registered {
            let keep = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::oauth_client(&code.client_id)))
                .key(keys::SK, s(keys::OAUTH_CLIENT_SK))
                .update_expression("SET #ttl = :ttl")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":ttl", n(ttl(now, UNUSED_CLIENT_LIFETIME)))
                .build()
                .map_err(internal)?;
            items.push(Write::update(Condition::Exists, keep));
        }
        match self.transact(items).await? {
            None => Ok(()),
            // Expired between its read and now: the code is no use to it.
            Some(Condition::Exists) => Err(Error::bad_request(
                "invalid_client",
                "the client's registration expired: register again",
            )),
            Some(other) => Err(collided(other)),
        }
    }

    /// The authorization code of hash `hash`, as kept.
    pub async fn code(&self, hash: &TokenHash) -> Result<Option<Code>, Error> {
        let Some(item) = self
            .get(keys::oauth_code(hash), keys::OAUTH_CODE_SK.into())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Code {
            account: item.parsed("account", AccountId::parse)?,
            user: item.string("user")?,
            role: Role::from_claim(item.opt_string("role").as_deref()),
            client_id: item.string("client_id")?,
            client_name: item.string("client_name")?,
            redirect_uri: item.string("redirect_uri")?,
            challenge: CodeChallenge::parse(
                item.opt_string("code_challenge").as_deref(),
                Some("S256"),
            )
            .map_err(|_| corrupt("code_challenge"))?,
            scopes: Scopes::parse(item.strings("scopes")).map_err(|_| corrupt("scopes"))?,
            expires_at: item.time("expires_at")?,
            grant: item.opt_parsed("grant_id", TokenId::parse),
        }))
    }

    /// Exchanges the code of hash `code` for the grant `record` (a connected app's token,
    /// counted like any other) and its first refresh token: all or nothing.
    pub async fn exchange_code(
        &self,
        code: &TokenHash,
        record: &TokenRecord,
        refresh: &TokenHash,
        limit: u32,
        now: Timestamp,
    ) -> Result<Exchanged, Error> {
        let spend = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_code(code)))
            .key(keys::SK, s(keys::OAUTH_CODE_SK))
            .update_expression("SET grant_id = :grant")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(grant_id)")
            .expression_attribute_values(":grant", s(record.id.as_str()))
            .build()
            .map_err(internal)?;
        let mut items = vec![Write::update(Condition::KeyUnused, spend)];
        items.push(self.refresh_op(refresh, record, now)?);
        match self.insert_token_with(record, limit, items).await? {
            None => Ok(Exchanged::Granted),
            Some(Condition::KeyUnused) => Ok(Exchanged::CodeSpent),
            Some(Condition::UnderLimit) => Ok(Exchanged::AtLimit),
            Some(other) => Err(collided(other)),
        }
    }

    /// The refresh token of hash `hash`, as kept.
    pub async fn refresh_token(&self, hash: &TokenHash) -> Result<Option<Refresh>, Error> {
        let Some(item) = self
            .get(keys::refresh(hash), keys::REFRESH_SK.into())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Refresh {
            account: item.parsed("account", AccountId::parse)?,
            token_id: item.parsed("token_id", TokenId::parse)?,
            client_id: item.string("client_id")?,
            generation: u32::try_from(item.int("generation")?)
                .map_err(|_| corrupt("generation"))?,
            expires_at: item.time("expires_at")?,
        }))
    }

    /// Renews grant `old` as `new` (its next generation: a new access token, a new
    /// refresh token of hash `refresh`): the old access token's item goes, the new one's
    /// comes. [`Written::Refused`] when the grant changed since it was read — revoked,
    /// deleted, or renewed by a concurrent use of the same refresh token.
    pub async fn renew_grant(
        &self,
        old: &TokenRecord,
        new: &TokenRecord,
        refresh: &TokenHash,
        now: Timestamp,
    ) -> Result<Written, Error> {
        let (Some(was), Some(app)) = (&old.app, &new.app) else {
            return Err(Error::Internal(
                "renew_grant was given a personal token".into(),
            ));
        };
        let meta = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::account(&old.account)))
            .key(keys::SK, s(keys::token(&old.id)))
            .update_expression(
                "SET token_hash = :new, hint = :hint, access_until = :until, generation = :next, last_used_at = :now",
            )
            .condition_expression(
                "attribute_exists(PK) AND revoked = :false AND generation = :gen AND token_hash = :old AND attribute_not_exists(deleted)",
            )
            .expression_attribute_values(":new", s(new.hash.as_str()))
            .expression_attribute_values(":hint", s(&new.hint))
            .expression_attribute_values(":until", time(app.access_until))
            .expression_attribute_values(":next", n(app.generation))
            .expression_attribute_values(":now", time(now))
            .expression_attribute_values(":false", flag(false))
            .expression_attribute_values(":gen", n(was.generation))
            .expression_attribute_values(":old", s(old.hash.as_str()))
            .build()
            .map_err(internal)?;
        let items = vec![
            Write::update(Condition::AsRead, meta),
            self.delete_op(&keys::token_hash(&old.hash), keys::TOKEN_HASH_SK)?,
            self.create_op(lookup_item(new))?,
            self.refresh_op(refresh, new, now)?,
        ];
        match self.transact(items).await? {
            None => Ok(Written::Yes),
            Some(Condition::AsRead) => Ok(Written::Refused),
            Some(other) => Err(collided(other)),
        }
    }

    /// The item of grant `record`'s refresh token of this generation.
    fn refresh_op(
        &self,
        hash: &TokenHash,
        record: &TokenRecord,
        now: Timestamp,
    ) -> Result<Write, Error> {
        let app = record
            .app
            .as_ref()
            .ok_or_else(|| Error::Internal("a refresh token for a personal token".into()))?;
        let expires_at = now
            .checked_add(REFRESH_LIFETIME)
            .ok_or_else(|| Error::Internal("the refresh token's expiry is out of range".into()))?;
        self.create_op(Item::from([
            (keys::PK.into(), s(keys::refresh(hash))),
            (keys::SK.into(), s(keys::REFRESH_SK)),
            ("account".into(), s(record.account.as_str())),
            ("token_id".into(), s(record.id.as_str())),
            ("client_id".into(), s(&app.client_id)),
            ("generation".into(), n(app.generation)),
            ("expires_at".into(), time(expires_at)),
            (keys::TTL.into(), n(ttl(now, REFRESH_LIFETIME))),
        ]))
    }
}

fn unix(at: Timestamp) -> i64 {
    i64::try_from(at.unix_millis() / 1000).unwrap_or(i64::MAX)
}

/// The TTL attribute of an item to be kept `for` from `now`.
fn ttl(now: Timestamp, keep: time::Duration) -> i64 {
    unix(now).saturating_add(keep.whole_seconds())
}
