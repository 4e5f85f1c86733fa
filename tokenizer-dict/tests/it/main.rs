//! Integration tests of the analyser: the table of real titles and names, bad input,
//! user dictionaries, and agreement with catalogued readings in ../shared/fixtures.

// Test code may unwrap: a panic is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod cases;
mod fixtures;
mod user_dictionary;
