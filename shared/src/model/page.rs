//! Paging, one way for every listing: a page size within the listing's bounds and an
//! opaque cursor — where the previous page stopped, and a MAC binding it to the account
//! and the listing, so a cursor that was edited, or taken from another account or
//! listing, is refused instead of leaking or skipping data. A page may stop early (a
//! filtered listing reads a bounded number of items per call) and still carry a cursor.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::hashing::Pepper;
use super::ids::AccountId;
use crate::error::Error;

/// A page of a listing and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "mcp", derive(schemars::JsonSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it back as `cursor` to get the next page; null on the last page. A filtered
    /// page may hold fewer items than asked, even none, and still have a next_cursor:
    /// keep going until it is null.
    pub next_cursor: Option<String>,
}

/// Where a listing stopped, as only the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position(pub(crate) String);

/// What the store read for one page: the items, and where to go on if more may follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

impl<T> Page<T> {
    /// The one page of a listing that cannot hold anything.
    pub fn empty() -> Page<T> {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }
}

/// What a caller asked for: a size and where to continue, both unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Where a checked request starts: how many items, after which position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    pub size: usize,
    pub after: Option<Position>,
}

/// A listing: its name (cursors are valid for it alone) and its page sizes.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    pub name: &'static str,
    pub default_size: usize,
    pub max_size: usize,
}

const TAG_LEN: usize = 32;

impl Listing {
    /// A `limit` as a query string gives it.
    pub fn parse_limit(&self, raw: &str) -> Result<u32, Error> {
        raw.trim().parse().map_err(|_| self.bad_limit())
    }

    /// A page size: the default, or the caller's within bounds.
    pub fn size(&self, limit: Option<u32>) -> Result<usize, Error> {
        match limit {
            None => Ok(self.default_size),
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=self.max_size).contains(n))
                .ok_or_else(|| self.bad_limit()),
        }
    }

    pub fn start(
        &self,
        pepper: &Pepper,
        account: &AccountId,
        request: &PageRequest,
    ) -> Result<PageStart, Error> {
        let size = self.size(request.limit)?;
        let after = request
            .cursor
            .as_deref()
            .map(|c| self.open(pepper, account, c).map(Position))
            .transpose()?;
        Ok(PageStart { size, after })
    }

    /// The page of what the store read, with the cursor of where it stopped.
    pub fn page<T>(&self, pepper: &Pepper, account: &AccountId, slice: Slice<T>) -> Page<T> {
        Page {
            items: slice.items,
            next_cursor: slice.next.map(|p| self.seal(pepper, account, &p.0)),
        }
    }

    fn bad_limit(&self) -> Error {
        Error::bad_request(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {}", self.max_size),
        )
    }

    fn seal(&self, pepper: &Pepper, account: &AccountId, last: &str) -> String {
        let tag = pepper.sign_cursor(&self.message(account, last));
        let mut raw = last.as_bytes().to_vec();
        raw.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(raw)
    }

    fn open(&self, pepper: &Pepper, account: &AccountId, cursor: &str) -> Result<String, Error> {
        let invalid = || {
            Error::bad_request(
                "invalid_cursor",
                "the cursor is not valid for this listing; start again without one",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let split = raw.len().checked_sub(TAG_LEN).ok_or_else(invalid)?;
        let (last, tag) = raw.split_at(split);
        let last = std::str::from_utf8(last).map_err(|_| invalid())?;
        if !pepper.verify_cursor(&self.message(account, last), tag) {
            return Err(invalid());
        }
        Ok(last.to_owned())
    }

    fn message(&self, account: &AccountId, last: &str) -> Vec<u8> {
        format!("{account}\n{}\n{last}", self.name).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENS: Listing = Listing {
        name: "tokens",
        default_size: 20,
        max_size: 100,
    };
    const CUSTOMERS: Listing = Listing {
        name: "customers",
        ..TOKENS
    };

    fn pepper() -> Pepper {
        Pepper::new(b"a pepper that is long enough for the rule").unwrap()
    }

    fn account(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    fn slice(next: Option<&str>) -> Slice<&'static str> {
        Slice {
            items: vec!["an item"],
            next: next.map(|n| Position(n.into())),
        }
    }

    fn cursor_after(listing: Listing, account_id: &str, last: &str) -> String {
        let page = listing.page(&pepper(), &account(account_id), slice(Some(last)));
        page.next_cursor.unwrap()
    }

    fn start(listing: Listing, account_id: &str, cursor: &str) -> Result<PageStart, Error> {
        let request = PageRequest {
            limit: None,
            cursor: Some(cursor.into()),
        };
        listing.start(&pepper(), &account(account_id), &request)
    }

    #[test]
    fn a_cursor_opens_only_for_its_account_and_listing() {
        let cursor = cursor_after(TOKENS, "acct_a", "tok_1");
        assert_eq!(
            start(TOKENS, "acct_a", &cursor).unwrap().after,
            Some(Position("tok_1".into()))
        );
        assert!(start(TOKENS, "acct_b", &cursor).is_err());
        assert!(start(CUSTOMERS, "acct_a", &cursor).is_err());
    }

    #[test]
    fn an_edited_cursor_is_refused() {
        let cursor = cursor_after(TOKENS, "acct_a", "tok_1");
        let mut tampered = cursor.into_bytes();
        tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [tampered.as_str(), "!!", ""] {
            assert_eq!(
                start(TOKENS, "acct_a", bad).unwrap_err().code(),
                "invalid_cursor"
            );
        }
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let page = TOKENS.page(&pepper(), &account("acct_a"), slice(None));
        assert_eq!(page.next_cursor, None);
        assert_eq!(page.items, ["an item"]);
    }

    #[test]
    fn sizes_are_bounded_by_the_listing() {
        let size = |limit| {
            let request = PageRequest {
                limit,
                cursor: None,
            };
            TOKENS
                .start(&pepper(), &account("acct_a"), &request)
                .map(|s| s.size)
        };
        assert_eq!(size(None).unwrap(), 20);
        assert_eq!(size(Some(1)).unwrap(), 1);
        assert_eq!(size(Some(100)).unwrap(), 100);
        for bad in [0, 101, u32::MAX] {
            assert_eq!(size(Some(bad)).unwrap_err().code(), "invalid_limit");
        }
        assert!(TOKENS.parse_limit("-1").is_err());
        assert!(TOKENS.parse_limit("many").is_err());
        assert_eq!(TOKENS.parse_limit(" 5 ").unwrap(), 5);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_cursor_opens_only_if_sealed_here(cursor in "\\PC{0,200}", limit in any::<Option<u32>>()) {
                let request = PageRequest { limit, cursor: Some(cursor) };
                let opened = TOKENS.start(&pepper(), &account("acct_a"), &request);
                prop_assert!(opened.is_err());
            }

            #[test]
            fn every_position_survives_its_cursor(position in "\\PC{0,200}", id in "[a-z_]{1,20}") {
                let cursor = cursor_after(TOKENS, &id, &position);
                let start = start(TOKENS, &id, &cursor).unwrap();
                prop_assert_eq!(start.after, Some(Position(position)));
            }
        }
    }
}
