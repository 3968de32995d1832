//! Opaque page cursors: the last key of a page and a MAC binding it to the account and the
//! listing, so a cursor that was edited, or taken from another account or listing, is
//! refused instead of leaking or skipping data.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::Error;
use crate::hashing::Pepper;
use crate::identity::AccountId;

const TAG_LEN: usize = 32;

pub fn seal(pepper: &Pepper, account: &AccountId, listing: &str, last: &str) -> String {
    let tag = pepper.sign_cursor(&message(account, listing, last));
    let mut raw = last.as_bytes().to_vec();
    raw.extend_from_slice(tag.as_ref());
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn open(
    pepper: &Pepper,
    account: &AccountId,
    listing: &str,
    cursor: &str,
) -> Result<String, Error> {
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
    if !pepper.verify_cursor(&message(account, listing, last), tag) {
        return Err(invalid());
    }
    Ok(last.to_owned())
}

fn message(account: &AccountId, listing: &str, last: &str) -> Vec<u8> {
    format!("{account}\n{listing}\n{last}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pepper() -> Pepper {
        Pepper::new(b"a pepper that is long enough for the rule").unwrap()
    }

    fn account(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    #[test]
    fn a_cursor_opens_only_for_its_account_and_listing() {
        let cursor = seal(&pepper(), &account("acct_a"), "tokens", "tok_1");
        assert_eq!(
            open(&pepper(), &account("acct_a"), "tokens", &cursor).unwrap(),
            "tok_1"
        );
        assert!(open(&pepper(), &account("acct_b"), "tokens", &cursor).is_err());
        assert!(open(&pepper(), &account("acct_a"), "customers", &cursor).is_err());
    }

    #[test]
    fn an_edited_cursor_is_refused() {
        let cursor = seal(&pepper(), &account("acct_a"), "tokens", "tok_1");
        let mut tampered = cursor.into_bytes();
        tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(open(&pepper(), &account("acct_a"), "tokens", &tampered).is_err());
        assert!(open(&pepper(), &account("acct_a"), "tokens", "!!").is_err());
        assert!(open(&pepper(), &account("acct_a"), "tokens", "").is_err());
    }
}
