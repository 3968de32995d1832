//! Public ids: a short prefix naming the kind (`tok_`, `cus_`, `agt_`, …) and a ULID, so
//! ids sort by creation time and sort keys built from them read newest first.

use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use crate::error::Error;

pub fn new(prefix: &str, now: OffsetDateTime) -> Result<String, Error> {
    let mut random = [0u8; 16];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    let ms = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let ulid = ulid::Ulid::from_parts(ms, u128::from_be_bytes(random));
    Ok(format!("{prefix}{ulid}"))
}

/// Whether `s` is an id of this kind, in canonical form.
pub fn is_valid(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|u| {
            ulid::Ulid::from_string(u)
                .ok()
                .filter(|p| p.to_string() == u)
        })
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time_and_round_trip() {
        let earlier = new(
            "cus_",
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        )
        .unwrap();
        let later = new(
            "cus_",
            OffsetDateTime::from_unix_timestamp(1_700_000_001).unwrap(),
        )
        .unwrap();
        assert!(earlier < later);
        assert!(is_valid("cus_", &later));
        assert!(!is_valid("agt_", &later));
        assert!(!is_valid("cus_", "cus_nope"));
        assert!(!is_valid("cus_", &later.to_lowercase()));
    }
}
