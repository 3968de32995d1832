//! An empty program, built like the bootstrap (same profile, same target): the time from
//! exec to its exit is the floor under any cold start — what the kernel, the loader and
//! Rust's runtime take before `main`.

fn main() {}
