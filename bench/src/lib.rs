//! What `make bench` and `make soak` measure with: servers as child processes, a
//! keep-alive HTTP client, CPU and memory from `/proc`.

pub mod measure;
