//! GitHub's secret scanning partner protocol, the part that decides whether a report is
//! GitHub's: its public keys (a JSON document of PEM keys) and the signature it sends,
//! an ECDSA P-256 / SHA-256 signature (base64 DER) over the raw body.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use serde::Deserialize;

/// The DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte point follows it.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// GitHub's current keys, by identifier, as uncompressed P-256 points.
#[derive(Debug, Clone, Default)]
pub struct PublicKeys {
    points: HashMap<String, Vec<u8>>,
}

/// What a signature check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// No key has this identifier (the document may have changed since it was read).
    UnknownKey,
    /// The signature is malformed or does not match the body.
    Invalid,
}

#[derive(Debug, thiserror::Error)]
#[error("the public keys document is not valid: {0}")]
pub struct BadKeys(&'static str);

#[derive(Deserialize)]
struct Document {
    public_keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    key_identifier: String,
    key: String,
}

impl PublicKeys {
    /// Reads `{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`. Keys
    /// that are not P-256 are left out; a document with none is refused.
    pub fn from_document(json: &[u8]) -> Result<PublicKeys, BadKeys> {
        let document: Document =
            serde_json::from_slice(json).map_err(|_| BadKeys("not the expected JSON"))?;
        let points: HashMap<String, Vec<u8>> = document
            .public_keys
            .into_iter()
            .filter_map(|k| Some((k.key_identifier, p256_point(&k.key)?)))
            .collect();
        if points.is_empty() {
            return Err(BadKeys("no P-256 key in it"));
        }
        Ok(PublicKeys { points })
    }

    pub fn has(&self, key_identifier: &str) -> bool {
        self.points.contains_key(key_identifier)
    }

    pub fn verify(&self, key_identifier: &str, signature: &str, body: &[u8]) -> Verdict {
        let Some(point) = self.points.get(key_identifier) else {
            return Verdict::UnknownKey;
        };
        let Ok(signature) = STANDARD.decode(signature.trim()) else {
            return Verdict::Invalid;
        };
        match UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point).verify(body, &signature) {
            Ok(()) => Verdict::Valid,
            Err(_) => Verdict::Invalid,
        }
    }
}

/// The uncompressed point at the end of a PEM P-256 SubjectPublicKeyInfo (ring verifies
/// with the point, not the whole SubjectPublicKeyInfo).
fn p256_point(pem: &str) -> Option<Vec<u8>> {
    let base64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(base64).ok()?;
    let point = der.strip_prefix(&P256_SPKI_PREFIX[..])?;
    (point.len() == 65 && point.first() == Some(&4)).then(|| point.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of GitHub's secret scanning partner documentation.
    const KEY_ID: &str = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";
    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq\nkCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==\n-----END PUBLIC KEY-----";
    const BODY: &[u8] = br#"[{"token":"some_token","type":"some_type","url":"some_url"}]"#;
    const SIGNATURE: &str =
        "MEUCIQDKZokqnCjrRtw0tni+2Ltvl/uiMJ1EGumEsp1BsNr32AIgQY1YXD2nlj+XNfGK4rBfkMJ1JDOQcYXxa2sY8FNkrKc=";

    fn keys() -> PublicKeys {
        let document = serde_json::json!({ "public_keys": [
            { "key_identifier": KEY_ID, "key": PEM, "is_current": true },
            { "key_identifier": "rsa", "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "is_current": false },
        ]});
        PublicKeys::from_document(document.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn githubs_documented_example_verifies() {
        assert_eq!(keys().verify(KEY_ID, SIGNATURE, BODY), Verdict::Valid);
    }

    #[test]
    fn a_changed_body_another_key_or_a_garbled_signature_does_not() {
        let keys = keys();
        let mut tampered = BODY.to_vec();
        tampered[12] ^= 1;
        assert_eq!(keys.verify(KEY_ID, SIGNATURE, &tampered), Verdict::Invalid);
        assert_eq!(keys.verify("another", SIGNATURE, BODY), Verdict::UnknownKey);
        assert_eq!(keys.verify(KEY_ID, "not base64!", BODY), Verdict::Invalid);
        assert_eq!(keys.verify(KEY_ID, "", BODY), Verdict::Invalid);
    }

    #[test]
    fn a_document_without_a_usable_key_is_refused() {
        assert!(PublicKeys::from_document(b"{}").is_err());
        assert!(PublicKeys::from_document(br#"{"public_keys": []}"#).is_err());
        assert!(PublicKeys::from_document(b"<html>").is_err());
    }
}
