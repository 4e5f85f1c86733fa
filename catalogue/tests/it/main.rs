//! Integration tests of the catalogue: the store against a plain model, imports of the
//! shared fixtures, circulation, and security (accounts, sessions, logs, tenant deletion).

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod circulation;
mod fixtures;
mod model;
mod round_trip;
mod security;
