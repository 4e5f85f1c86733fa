//! Integration tests of the catalogue: the store against a plain model, and imports of the
//! shared fixtures.

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod model;
mod round_trip;
