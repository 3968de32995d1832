//! What `make bench` and `make soak` measure with: servers as child processes, a
//! keep-alive HTTP client, CPU and memory from `/proc`; and the rate limiter across
//! instances, simulated in one process.

pub mod cost;
pub mod limits;
pub mod measure;
