//! The auth hot path of every MCP call, without I/O: parsing a bearer token (format and
//! CRC32 checksum) and its HMAC-SHA256 with the pepper; and rejecting damaged tokens,
//! which must cost next to nothing since they never reach the database.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use knotie::model::hashing::Pepper;
use knotie::model::token::Token;
use ring::rand::SystemRandom;

fn auth(c: &mut Criterion) {
    let pepper = Pepper::new(b"knotie-local-development-pepper-not-a-secret").unwrap();
    let token = Token::generate(&SystemRandom::new()).unwrap();
    let valid = token.expose().to_owned();
    let truncated = valid[..40].to_owned();
    let mut mistyped = valid.clone();
    mistyped.replace_range(20..21, if &valid[20..21] == "a" { "b" } else { "a" });

    c.bench_function("valid token: parse + checksum + HMAC", |b| {
        b.iter(|| pepper.hash(&Token::parse(black_box(&valid)).unwrap()))
    });
    c.bench_function("truncated token: rejected", |b| {
        b.iter(|| Token::parse(black_box(&truncated)).unwrap_err())
    });
    c.bench_function("mistyped token: rejected by the checksum", |b| {
        b.iter(|| Token::parse(black_box(&mistyped)).unwrap_err())
    });
}

criterion_group!(benches, auth);
criterion_main!(benches);
